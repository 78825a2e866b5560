import { checkDuration, type DurationRange } from './clock.js';

/** Options of the client's reconnect backoff (`backoff` of `connectRegistry`). */
export interface BackoffOptions {
  /** The first delay. Default 200 ms; from 1 ms to 60 s. */
  initialMs?: number;
  /**
   * The cap, also of a server's `Retry-After`. Default 10 s; from `initialMs` to 10 min (longer,
   * a sidecar back from a fault would go unnoticed for too long).
   */
  maxMs?: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. Default 0.3. */
  jitter?: number;
}

/** The range of `backoff.initialMs`. */
export const INITIAL_RANGE: DurationRange = { min: 1, max: 60_000 };
/** The largest `backoff.maxMs`. */
export const MAX_BACKOFF_MS = 600_000;

/**
 * Jittered exponential backoff with a cap: `initialMs` doubling per failure up to `maxMs`, each
 * spread by the jitter so that many clients of one restarted sidecar do not reconnect in step.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #jitter: number;
  readonly #random: () => number;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.#initial = checkDuration('backoff.initialMs', options.initialMs ?? 200, INITIAL_RANGE);
    this.#max = checkDuration('backoff.maxMs', options.maxMs ?? 10_000, {
      min: this.#initial,
      max: MAX_BACKOFF_MS,
    });
    this.#jitter = options.jitter ?? 0.3;
    this.#random = random;
    if (!(this.#jitter >= 0 && this.#jitter < 1)) {
      throw new RangeError('connectRegistry: backoff.jitter must be in [0, 1)');
    }
  }

  /** The longest delay: also the most of a server's `Retry-After` the client honours. */
  get maxMs(): number {
    return this.#max;
  }

  /** The delay before attempt number `failures + 1` (`failures` from 1). */
  delay(failures: number): number {
    const exponent = Math.min(Math.max(failures - 1, 0), 30);
    const base = Math.min(this.#initial * 2 ** exponent, this.#max);
    const spread = base * (1 + this.#jitter * (2 * this.#random() - 1));
    return Math.round(Math.min(spread, this.#max));
  }
}
