import { type Clock, systemClock } from './clock.js';
import { checkDuration, type DurationRange } from './duration.js';

/**
 * Decides how long an item waits before it is retried: client-go's `workqueue.RateLimiter`.
 * `when` records a failure and returns the delay; `forget` clears the item's history.
 */
export interface RateLimiter<K = string> {
  when(item: K): number;
  forget(item: K): void;
  numRequeues(item: K): number;
}

/** The longest per-item delay: a day between retries is as good as never, and says so. */
const ITEM_MAX_RANGE: DurationRange = { min: 1, max: 86_400_000 };

/**
 * Per-item exponential backoff: `base * 2^failures`, capped at `max`. client-go's default for
 * controllers is 5 ms to 1000 s. `baseMs` is 1 ms to `maxMs`, `maxMs` 1 ms to 24 h (else a
 * `RangeError`).
 */
export class ItemExponentialFailureRateLimiter<K = string> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.#maxMs = checkDuration('maxMs', maxMs, ITEM_MAX_RANGE);
    this.#baseMs = checkDuration('baseMs', baseMs, { min: 1, max: this.#maxMs });
  }

  when(item: K): number {
    const failures = this.#failures.get(item) ?? 0;
    this.#failures.set(item, failures + 1);
    // 2^failures overflows to Infinity long before it matters; the cap keeps it finite.
    return Math.min(this.#baseMs * 2 ** failures, this.#maxMs);
  }

  forget(item: K): void {
    this.#failures.delete(item);
  }

  numRequeues(item: K): number {
    return this.#failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket shared by all items (client-go: 10 per second, burst 100): retries
 * beyond the rate wait for their turn whatever the item. `ratePerSecond` is above 0 and at most
 * 1,000,000, `burst` a whole number of at least 1 (else a `RangeError`).
 */
export class BucketRateLimiter<K = string> implements RateLimiter<K> {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond = 10, burst = 100, clock: Clock = systemClock) {
    if (!(ratePerSecond > 0 && ratePerSecond <= 1_000_000)) {
      throw new RangeError(
        `ratePerSecond ${ratePerSecond} is not a number above 0 and at most 1000000`,
      );
    }
    if (!(Number.isInteger(burst) && burst >= 1)) {
      throw new RangeError(`burst ${burst} is not a whole number of at least 1`);
    }
    this.#ratePerSecond = ratePerSecond;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  when(_item: K): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#last) / 1000) * this.#ratePerSecond,
    );
    this.#last = now;
    // Reserve a token now; when the bucket is empty the reservation lies in the future.
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    return (-this.#tokens / this.#ratePerSecond) * 1000;
  }

  forget(_item: K): void {}

  numRequeues(_item: K): number {
    return 0;
  }
}

/** The longest delay of several limiters: client-go's `MaxOfRateLimiter`. */
export class MaxOfRateLimiter<K = string> implements RateLimiter<K> {
  readonly #limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(item: K): number {
    let delay = 0;
    for (const limiter of this.#limiters) delay = Math.max(delay, limiter.when(item));
    return delay;
  }

  forget(item: K): void {
    for (const limiter of this.#limiters) limiter.forget(item);
  }

  numRequeues(item: K): number {
    let count = 0;
    for (const limiter of this.#limiters) count = Math.max(count, limiter.numRequeues(item));
    return count;
  }
}

/**
 * client-go's `DefaultControllerRateLimiter`: per-item 5 ms → 1000 s exponential backoff,
 * combined with an overall bucket of 10 per second with a burst of 100.
 */
export function defaultControllerRateLimiter<K = string>(
  clock: Clock = systemClock,
): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ItemExponentialFailureRateLimiter<K>(5, 1_000_000),
    new BucketRateLimiter<K>(10, 100, clock),
  );
}
