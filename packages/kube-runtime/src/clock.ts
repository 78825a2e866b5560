/**
 * Time as the runtime sees it: the work queue, the controller, the watcher (its backoff, stall
 * watchdog and short-watch check) and `Backoff` all read it, so that tests run delays in no time
 * with the `FakeClock` of `@vmcp/kube-runtime/testing`.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `callback` after `ms`; the returned function cancels it. Never keeps Node alive. */
  setTimer(ms: number, callback: () => void): () => void;
}

/** The real clock: `performance.now()` and unref'd timers. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimer(ms: number, callback: () => void) {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return () => clearTimeout(timer);
  },
});

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
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback };
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
