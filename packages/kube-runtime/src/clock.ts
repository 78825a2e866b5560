/**
 * Time as the runtime sees it: the work queue, the controller, the watcher (its backoff, stall
 * watchdog and short-watch check) and `Backoff` all read it, so that tests run delays in no time
 * with the `FakeClock` of `@vmcp/kube-runtime/testing`.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /**
   * Calls `callback` after `ms`; the returned function cancels it. Never keeps Node alive. Any
   * delay is honoured: one longer than Node's timers allow waits the whole delay, 0, a negative
   * delay or NaN means as soon as possible, and `Infinity` never fires.
   */
  setTimer(ms: number, callback: () => void): () => void;
}

/** Node's longest timer delay (about 24.8 days): it fires a longer one after 1 ms instead. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Schedules one unref'd timer of at most {@link MAX_TIMER_DELAY_MS}; returns its cancel. */
export type TimerSource = (ms: number, callback: () => void) => () => void;

const nodeTimers: TimerSource = (ms, callback) => {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/** A delay as a clock honours it: NaN and negative are 0; anything else stays as it is. */
const honoured = (ms: number): number => Math.max(0, ms || 0);

/**
 * A clock on a timer source: a delay longer than the source allows is waited in a chain of
 * timers, each at most {@link MAX_TIMER_DELAY_MS}, so that it waits the whole delay instead of
 * firing at once (the hole that made a 720 h resync spin).
 */
export function chainedClock(timers: TimerSource, now: () => number): Clock {
  return Object.freeze({
    now,
    setTimer(ms: number, callback: () => void): () => void {
      let remaining = honoured(ms);
      if (remaining === Number.POSITIVE_INFINITY) return () => undefined;
      let cancel: () => void;
      const step = (): void => {
        const wait = Math.min(remaining, MAX_TIMER_DELAY_MS);
        remaining -= wait;
        cancel = timers(wait, remaining > 0 ? step : callback);
      };
      step();
      return () => cancel();
    },
  });
}

/** The real clock: `performance.now()` and unref'd Node timers, chained for long delays. */
export const systemClock: Clock = chainedClock(nodeTimers, () => performance.now());

/**
 * Resolves after `ms` on `clock`, or at once when `signal` aborts (never rejects). The timer is
 * cancelled either way.
 */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.setTimer(ms, done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * A clock that moves only when told to: `advance(ms)` fires every timer that falls due, in
 * deadline order. For tests; exported by `@vmcp/kube-runtime/testing`.
 *
 * @example
 * const clock = new FakeClock();
 * const queue = new WorkQueue<string>({ clock });
 * queue.addAfter('a', 1000);
 * clock.advance(1000); // 'a' is queued now
 */
export class FakeClock implements Clock {
  #now = 0;
  #timers: { at: number; seq: number; callback: () => void }[] = [];
  #seq = 0;

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, callback: () => void): () => void {
    const timer = { at: this.#now + honoured(ms), seq: this.#seq++, callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward, firing due timers (also ones they set) in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.callback();
    }
    this.#now = target;
  }

  /** How many timers are pending. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** How long from now each pending timer is due, soonest first: what the code waits for. */
  timersDueIn(): number[] {
    return this.#timers.map((timer) => timer.at - this.#now).sort((a, b) => a - b);
  }
}
