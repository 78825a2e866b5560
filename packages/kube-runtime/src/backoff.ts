import { type Clock, systemClock } from './clock.js';
import { checkDuration, type DurationRange } from './duration.js';

/** The policy of a {@link Backoff}: its numbers only (time and randomness are injected apart). */
export interface BackoffOptions {
  /** The first delay: 1 ms to `maxMs`. Default 800 ms. */
  initialMs?: number;
  /** The longest delay, and the longest a server's `Retry-After` is waited: 1 ms to 1 h. Default 30 s. */
  maxMs?: number;
  /** Each delay is the last one times this: 1 to 10. Default 2. */
  factor?: number;
  /** Jitter fraction: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]; 0 to 1. Default 0.2. */
  jitter?: number;
  /** A period without failure after which the next delay starts from `initialMs` again: 0 to 24 h. Default 2 min. */
  resetAfterMs?: number;
}

/** `maxMs`: a retry later than an hour is an outage the caller should see, not a wait. */
const MAX_RANGE: DurationRange = { min: 1, max: 3_600_000 };
/** `resetAfterMs`: compared with the time since the last failure, never waited. */
const RESET_RANGE: DurationRange = { min: 0, max: 86_400_000 };

/**
 * Jittered exponential backoff with reset, as client-go's reflector uses for list/watch retries:
 * about 0.8 s doubling to 30 s, back to the start after two minutes without a failure.
 * A server's `Retry-After` wins when it asks for longer, up to `maxMs`: one answer of a proxy
 * must not stop the retries for hours. Time comes from `clock` and jitter from `random`, so that
 * a test decides both. Options out of range throw a `RangeError` naming them.
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
    this.#max = checkDuration('backoff.maxMs', options.maxMs, MAX_RANGE, 30_000);
    this.#initial = checkDuration(
      'backoff.initialMs',
      options.initialMs,
      { min: 1, max: this.#max },
      Math.min(800, this.#max),
    );
    this.#factor = checkFraction('backoff.factor', options.factor, 1, 10, 2);
    this.#jitter = checkFraction('backoff.jitter', options.jitter, 0, 1, 0.2);
    this.#resetAfter = checkDuration(
      'backoff.resetAfterMs',
      options.resetAfterMs,
      RESET_RANGE,
      120_000,
    );
    this.#random = random;
    this.#clock = clock;
  }

  /** The longest delay {@link next} returns, a server's `Retry-After` included. */
  get maxMs(): number {
    return this.#max;
  }

  /**
   * Records a failure and returns how long to wait before the next attempt: the backoff's delay,
   * or the server's `Retry-After` when longer, never more than `maxMs`.
   */
  next(retryAfterSeconds?: number): number {
    const now = this.#clock.now();
    if (now - this.#lastFailure > this.#resetAfter) this.#current = 0;
    this.#lastFailure = now;
    this.#current =
      this.#current === 0 ? this.#initial : Math.min(this.#current * this.#factor, this.#max);
    const jittered = this.#current * (1 + this.#jitter * (2 * this.#random() - 1));
    const delay = Math.min(Math.max(0, jittered), this.#max);
    const asked = (retryAfterSeconds ?? 0) * 1000;
    // NaN and negative ask for nothing; Infinity and hours are capped.
    return asked > delay ? Math.min(asked, this.#max) : delay;
  }

  /** Starts over: the next failure waits `initialMs`. */
  reset(): void {
    this.#current = 0;
  }
}

/** A plain number option within [min, max], or `fallback` when undefined. */
function checkFraction(
  option: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!(value >= min && value <= max)) {
    throw new RangeError(`${option} ${value} is not a number from ${min} to ${max}`);
  }
  return value;
}
