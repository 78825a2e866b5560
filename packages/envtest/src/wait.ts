// Waiting in the harness: one polling loop for every readiness wait (etcd, kube-apiserver, the
// CRDs), and the ranges of the waits a caller sets.

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How one {@link until} polls and when it gives up. */
export interface UntilOptions {
  /** Epoch ms after which it fails with `timedOut`. */
  deadline: number;
  /** The pause between two checks. */
  intervalMs: number;
  /** The message when the deadline passes. */
  timedOut: string;
  /** Asked before each check: a message to fail with at once (a process that exited), or undefined. */
  gaveUp?: () => string | undefined;
}

/**
 * Calls `check` every `intervalMs` until it resolves true. Fails at once when `gaveUp` names a
 * reason, and with `timedOut` once the deadline passed. A check that throws fails the wait.
 */
export async function until(check: () => Promise<boolean>, options: UntilOptions): Promise<void> {
  for (;;) {
    const reason = options.gaveUp?.();
    if (reason !== undefined) throw new Error(reason);
    if (await check()) return;
    if (Date.now() > options.deadline) throw new Error(options.timedOut);
    await sleep(options.intervalMs);
  }
}

/**
 * `value` when it is a number of milliseconds from `minMs` to `maxMs`, else a `RangeError` naming
 * the option, the value and the limits (the workspace's rule for durations).
 */
export function checkWaitMs(option: string, value: number, minMs: number, maxMs: number): number {
  if (typeof value !== 'number' || !(value >= minMs && value <= maxMs)) {
    throw new RangeError(
      `${option} ${String(value)} is not a number of milliseconds from ${minMs} to ${maxMs}`,
    );
  }
  return value;
}
