/** Anything with a version that moves when its content changes, such as a registry. */
export interface Versioned {
  readonly version: number;
}

interface Computation<T> {
  readonly version: number;
  readonly promise: Promise<T>;
}

/**
 * Lazy invalidation, the consumer side of a registry: derived data (say, the aggregated
 * capability list of a vMCP server) tagged with the version it was computed at, and recomputed
 * only when a reader finds that the version has moved since.
 *
 * - No work happens on a change: only a read after a change recomputes.
 * - Concurrent readers during a recompute share the one computation in flight (no thundering
 *   herd).
 * - A computation that fails is not cached: the next read tries again.
 * - A result is never older than the version read when the read started.
 *
 * @example
 * const capabilities = new VersionedCache(registry, async (version) => aggregate(registry.list()));
 * await capabilities.get(); // computes
 * await capabilities.get(); // cached until registry.version moves
 */
export class VersionedCache<T> {
  readonly #source: Versioned;
  readonly #compute: (version: number) => T | Promise<T>;
  #settled: { version: number; value: T } | undefined;
  #inFlight: Computation<T> | undefined;
  #computations = 0;

  constructor(source: Versioned, compute: (version: number) => T | Promise<T>) {
    this.#source = source;
    this.#compute = compute;
  }

  /** The value for the source's current version, computing it only if needed. */
  get(): Promise<T> {
    const version = this.#source.version;
    if (this.#settled?.version === version) return Promise.resolve(this.#settled.value);
    if (this.#inFlight?.version === version) return this.#inFlight.promise;
    const computation: Computation<T> = { version, promise: this.#run(version) };
    this.#inFlight = computation;
    // Cleared once settled, also when `compute` threw synchronously, so that an error is never
    // served to a later reader.
    const clear = (): void => {
      if (this.#inFlight === computation) this.#inFlight = undefined;
    };
    computation.promise.then(clear, clear);
    return computation.promise;
  }

  /** The version the cached value was computed at, if any. */
  get cachedVersion(): number | undefined {
    return this.#settled?.version;
  }

  /** How many computations have started: for tests and metrics. */
  get computations(): number {
    return this.#computations;
  }

  /** Drops the cached value: the next read recomputes even if the version did not move. */
  invalidate(): void {
    this.#settled = undefined;
    this.#inFlight = undefined;
  }

  async #run(version: number): Promise<T> {
    this.#computations++;
    const value = await this.#compute(version);
    // Versions only grow: keep the newest result, never replace it with an older one.
    if (this.#settled === undefined || this.#settled.version <= version) {
      this.#settled = { version, value };
    }
    return value;
  }
}

/** Shorthand: a function that returns the derived value for the source's current version. */
export function memoByVersion<T>(
  source: Versioned,
  compute: (version: number) => T | Promise<T>,
): () => Promise<T> {
  const cache = new VersionedCache(source, compute);
  return () => cache.get();
}
