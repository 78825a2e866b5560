/** Options of {@link Backoff}. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Jitter fraction: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  jitter?: number;
  /** A period without failure after which the next delay starts from `initialMs` again. */
  resetAfterMs?: number;
  random?: () => number;
  now?: () => number;
}

/**
 * Jittered exponential backoff with reset, as client-go's reflector uses for list/watch retries:
 * about 0.8 s doubling to 30 s, back to the start after two minutes without a failure.
 * A server's `Retry-After` wins when it asks for longer.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #resetAfter: number;
  readonly #random: () => number;
  readonly #now: () => number;
  #current = 0;
  #lastFailure = Number.NEGATIVE_INFINITY;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 800;
    this.#max = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.2;
    this.#resetAfter = options.resetAfterMs ?? 120_000;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(retryAfterSeconds?: number): number {
    const now = this.#now();
    if (now - this.#lastFailure > this.#resetAfter) this.#current = 0;
    this.#lastFailure = now;
    this.#current =
      this.#current === 0 ? this.#initial : Math.min(this.#current * this.#factor, this.#max);
    const jittered = this.#current * (1 + this.#jitter * (2 * this.#random() - 1));
    const delay = Math.min(Math.max(0, jittered), this.#max);
    return retryAfterSeconds !== undefined && retryAfterSeconds * 1000 > delay
      ? retryAfterSeconds * 1000
      : delay;
  }

  /** Starts over: the next failure waits `initialMs`. */
  reset(): void {
    this.#current = 0;
  }
}
