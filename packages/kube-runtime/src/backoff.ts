import { type Clock, systemClock } from './clock.js';

/** The policy of a {@link Backoff}: its numbers only (time and randomness are injected apart). */
export interface BackoffOptions {
  /** The first delay. Default 800 ms. */
  initialMs?: number;
  /** The longest delay. Default 30 s. */
  maxMs?: number;
  /** Each delay is the last one times this. Default 2. */
  factor?: number;
  /** Jitter fraction: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
  /** A period without failure after which the next delay starts from `initialMs` again. Default 2 min. */
  resetAfterMs?: number;
}

/**
 * Jittered exponential backoff with reset, as client-go's reflector uses for list/watch retries:
 * about 0.8 s doubling to 30 s, back to the start after two minutes without a failure.
 * A server's `Retry-After` wins when it asks for longer. Time comes from `clock` and jitter from
 * `random`, so that a test decides both.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #resetAfter: number;
  readonly #random: () => number;
  readonly #clock: Clock;
  #current = 0;
  #lastFailure = Number.NEGATIVE_INFINITY;

  constructor(
    options: BackoffOptions = {},
    { clock = systemClock, random = Math.random }: { clock?: Clock; random?: () => number } = {},
  ) {
    this.#initial = options.initialMs ?? 800;
    this.#max = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.2;
    this.#resetAfter = options.resetAfterMs ?? 120_000;
    this.#random = random;
    this.#clock = clock;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(retryAfterSeconds?: number): number {
    const now = this.#clock.now();
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
