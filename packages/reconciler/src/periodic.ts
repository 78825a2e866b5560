import type { Clock } from '@vmcp/kube-runtime';

/**
 * The next delay of a periodic task: the period jittered by ×0.9–1.1, as controller-runtime
 * jitters its SyncPeriod, so that replicas started together do not run it together.
 */
export function jitteredResyncMs(periodMs: number, random: () => number = Math.random): number {
  return Math.round(periodMs * (0.9 + 0.2 * random()));
}

/** Options of {@link runPeriodically}. */
export interface PeriodicOptions {
  clock: Clock;
  /** The period, jittered ×0.9–1.1 each time; 0 (or less) runs nothing. */
  periodMs: number;
  /** Random source of the jitter, in [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
  /**
   * The task. A promise is waited for: the next run starts one jittered period after this one
   * started, or at once when this one took longer, never while it runs. It reports its own
   * failures: a rejection is ignored.
   */
  task: () => void | Promise<void>;
}

/**
 * Runs a task every jittered period on a clock, the first time one period from now, until the
 * returned function is called.
 */
export function runPeriodically(options: PeriodicOptions): () => void {
  const { clock, periodMs, random, task } = options;
  if (!(periodMs > 0)) return () => undefined;
  let stopped = false;
  let cancel: () => void = () => undefined;
  const schedule = (delayMs: number): void => {
    cancel = clock.setTimer(delayMs, () => {
      const started = clock.now();
      const next = (): void => {
        if (!stopped)
          schedule(Math.max(0, jitteredResyncMs(periodMs, random) - (clock.now() - started)));
      };
      let running: void | Promise<void>;
      try {
        running = task();
      } catch {
        running = undefined;
      }
      if (running instanceof Promise) running.then(next, next);
      else next();
    });
  };
  schedule(jitteredResyncMs(periodMs, random));
  return () => {
    stopped = true;
    cancel();
  };
}
