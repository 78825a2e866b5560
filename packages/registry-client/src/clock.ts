/**
 * Time as the client sees it: injectable, so that tests run stalls and backoff in no time. The
 * shape is `@vmcp/kube-runtime`'s `Clock`, so its `FakeClock` fits.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `callback` after `ms`; the returned function cancels it. */
  setTimer(ms: number, callback: () => void): () => void;
}

/**
 * `performance.now()` and plain timers. A pending timer keeps the process alive, as the open
 * connection does: a program waiting on the client does not exit under it while it backs off.
 * The client cancels every timer when it closes.
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimer(ms: number, callback: () => void) {
    const timer = setTimeout(callback, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
});
