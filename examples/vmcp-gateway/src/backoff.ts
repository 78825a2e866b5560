/**
 * How long a failing backend waits before the next connection attempt: exponential, capped, and
 * jittered so that backends (and gateway replicas) that failed together do not retry together.
 * Pure: the random source is passed in.
 */

/** The retry policy of a failing backend. */
export interface RetryPolicy {
  /** The first delay. Default 500 ms. */
  readonly initialMs: number;
  /** The longest delay. Default 30 s. */
  readonly maxMs: number;
  /** Each delay is the previous one times this. Default 2. */
  readonly factor: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter). Default 0.2. */
  readonly jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
});

/**
 * The delay before attempt `failures + 1`, after `failures` (1 or more) failures in a row:
 * `initialMs × factor^(failures − 1)`, capped at `maxMs`, jittered, and never above `maxMs`.
 *
 * @example
 * retryDelayMs(1, DEFAULT_RETRY_POLICY, () => 0.5); // 500
 * retryDelayMs(3, DEFAULT_RETRY_POLICY, () => 0.5); // 2000
 */
export function retryDelayMs(failures: number, policy: RetryPolicy, random: () => number): number {
  const exponent = Math.max(0, failures - 1);
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  const jittered = base * (1 + policy.jitter * (2 * random() - 1));
  return Math.round(Math.min(policy.maxMs, Math.max(0, jittered)));
}
