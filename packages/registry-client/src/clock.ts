/**
 * Time as the client sees it: injectable, so that tests run stalls and backoff in no time. The
 * shape is `@vmcp/kube-runtime`'s `Clock`, so its `FakeClock` fits. Every timer of the client
 * goes through one, and {@link checkDuration} checks every duration option where it enters.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `callback` after `ms`; the returned function cancels it. */
  setTimer(ms: number, callback: () => void): () => void;
}

/** The longest delay one Node timer honours (about 24.8 days); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What {@link createSystemClock} runs on: Node's timers and `performance.now()`. */
export interface TimerSource {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

const nodeTimers: TimerSource = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/**
 * A real clock on `source`. A delay above {@link MAX_TIMER_MS} is waited in whole as a chain of
 * timers (Node would turn it into 1 ms and spin); NaN and negative delays are 0.
 */
export function createSystemClock(source: TimerSource = nodeTimers): Clock {
  return Object.freeze({
    now: () => source.now(),
    setTimer(ms: number, callback: () => void) {
      const delay = Number.isNaN(ms) ? 0 : Math.max(ms, 0);
      const deadline = source.now() + delay;
      let timer: unknown;
      const arm = (): void => {
        const left = deadline - source.now();
        timer =
          left > MAX_TIMER_MS
            ? source.setTimeout(arm, MAX_TIMER_MS)
            : source.setTimeout(callback, Math.max(0, left));
      };
      arm();
      return () => source.clearTimeout(timer);
    },
  });
}

/**
 * `performance.now()` and plain timers, chained past {@link MAX_TIMER_MS}. A pending timer keeps
 * the process alive, as the open connection does: a program waiting on the client does not exit
 * under it while it backs off. The client cancels every timer when it closes.
 */
export const systemClock: Clock = createSystemClock();

/** Resolves true after `ms` on `clock`, or false at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (passed: boolean): void => {
      cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(passed);
    };
    const onAbort = (): void => done(false);
    const cancel = clock.setTimer(ms, () => done(true));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The range of a duration option, in milliseconds (both ends allowed). */
export interface DurationRange {
  readonly min: number;
  readonly max: number;
}

/**
 * `value` when it is a finite number of milliseconds within `range`; otherwise a `RangeError`
 * naming the option (`name`), the value and the limit, e.g. `connectRegistry: idleTimeoutMs
 * 1e12 is above the maximum of 3600000 (1h)`.
 */
export function checkDuration(name: string, value: number, range: DurationRange): number {
  const given = `connectRegistry: ${name} ${String(value)}`;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new RangeError(`${given} is not a number of milliseconds`);
  }
  if (value < range.min) {
    throw new RangeError(`${given} is below the minimum of ${range.min} (${humanMs(range.min)})`);
  }
  if (value > range.max) {
    throw new RangeError(`${given} is above the maximum of ${range.max} (${humanMs(range.max)})`);
  }
  return value;
}

const UNITS: readonly [string, number][] = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `ms` in the largest unit that divides it: `1h`, `90s`, `250ms`. */
export function humanMs(ms: number): string {
  for (const [unit, size] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
