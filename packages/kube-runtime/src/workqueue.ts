import { type Clock, systemClock } from './clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './ratelimiter.js';

/** Observations a work queue reports; every method is optional. Durations in seconds. */
export interface WorkQueueMetrics {
  add?(): void;
  depth?(depth: number): void;
  queueLatency?(seconds: number): void;
  workDuration?(seconds: number): void;
  retry?(): void;
}

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions<K> {
  rateLimiter?: RateLimiter<K>;
  clock?: Clock;
  metrics?: WorkQueueMetrics;
}

/**
 * A work queue with client-go's semantics:
 *
 * - **Dedupe.** A key that is already waiting is not queued twice (the dirty set).
 * - **One at a time.** A key being processed is never handed out again until `done`; if it was
 *   added meanwhile, it is queued again once `done` is called (the processing set).
 * - **Delays.** `addAfter` queues a key later (the earliest deadline wins), `addRateLimited`
 *   asks the rate limiter how long, `forget` clears the key's failure history.
 * - **Shutdown.** `shutDown` refuses new keys and wakes every waiting `get` with undefined once
 *   the queue is empty; `shutDownWithDrain` also waits until the keys in flight are done.
 *
 * Keys compare with `===` (strings are the common case: `namespace/name`).
 */
export class WorkQueue<K = string> {
  readonly #clock: Clock;
  readonly #rateLimiter: RateLimiter<K>;
  readonly #metrics: WorkQueueMetrics;
  #queue: K[] = [];
  #head = 0;
  readonly #dirty = new Set<K>();
  readonly #processing = new Map<K, number>();
  readonly #queuedAt = new Map<K, number>();
  readonly #delayed = new Map<K, { at: number; cancel: () => void }>();
  readonly #waiters = new Set<(key: K | undefined) => void>();
  readonly #drainWaiters = new Set<() => void>();
  #shuttingDown = false;

  constructor(options: WorkQueueOptions<K> = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>(this.#clock);
    this.#metrics = options.metrics ?? {};
  }

  /** Queues the key unless it is already waiting; ignored after shutdown. */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics.add?.();
    this.#dirty.add(key);
    this.#queuedAt.set(key, this.#clock.now());
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#metrics.depth?.(this.len());
    this.#dispatch();
  }

  /**
   * Queues the key after `delayMs`; an already pending earlier deadline for the key wins. 0 or
   * less queues it now; any finite delay is honoured (the clock chains long ones); NaN or
   * Infinity is a `RangeError`.
   */
  addAfter(key: K, delayMs: number): void {
    if (!Number.isFinite(delayMs)) {
      throw new RangeError(`addAfter: delayMs ${delayMs} is not a finite number of milliseconds`);
    }
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      pending.cancel();
    }
    const cancel = this.#clock.setTimer(delayMs, () => {
      this.#delayed.delete(key);
      this.add(key);
    });
    this.#delayed.set(key, { at, cancel });
  }

  /** Queues the key after the delay its rate limiter gives (a failure is recorded). */
  addRateLimited(key: K): void {
    this.#metrics.retry?.();
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Clears the key's failure history: the next `addRateLimited` starts from the base delay. */
  forget(key: K): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /** Keys waiting to be handed out. */
  len(): number {
    return this.#queue.length - this.#head;
  }

  /** Keys handed out and not yet `done`. */
  get processingCount(): number {
    return this.#processing.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * The next key, waiting for one if needed; undefined once the queue is shut down and empty,
   * or when the signal aborts. The caller must call `done(key)` when finished with it.
   */
  get(signal?: AbortSignal): Promise<K | undefined> {
    if (this.len() > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (key: K | undefined): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(key);
      };
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        resolve(undefined);
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Marks the key finished; if it was added while processing, it is queued again now. */
  done(key: K): void {
    const startedAt = this.#processing.get(key);
    if (startedAt === undefined) return;
    this.#processing.delete(key);
    this.#metrics.workDuration?.((this.#clock.now() - startedAt) / 1000);
    if (this.#dirty.has(key)) {
      this.#queue.push(key);
      this.#dispatch();
    }
    if (this.#processing.size === 0) {
      for (const wake of this.#drainWaiters) wake();
      this.#drainWaiters.clear();
    }
  }

  /** Refuses new keys, cancels delayed ones, and ends waiting `get`s once nothing is queued. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { cancel } of this.#delayed.values()) cancel();
    this.#delayed.clear();
    this.#dispatch();
  }

  /** Shuts down, then resolves once every key handed out is `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.add(resolve));
  }

  /** Seconds of work done so far by keys still processing (controller-runtime's gauge). */
  unfinishedWorkSeconds(): number {
    const now = this.#clock.now();
    let total = 0;
    for (const startedAt of this.#processing.values()) total += now - startedAt;
    return total / 1000;
  }

  /** Seconds the longest-running key has been processing. */
  longestRunningProcessorSeconds(): number {
    const now = this.#clock.now();
    let longest = 0;
    for (const startedAt of this.#processing.values()) longest = Math.max(longest, now - startedAt);
    return longest / 1000;
  }

  #take(): K {
    const key = this.#queue[this.#head] as K;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    const now = this.#clock.now();
    this.#processing.set(key, now);
    this.#dirty.delete(key);
    const queuedAt = this.#queuedAt.get(key);
    this.#queuedAt.delete(key);
    if (queuedAt !== undefined) this.#metrics.queueLatency?.((now - queuedAt) / 1000);
    this.#metrics.depth?.(this.len());
    return key;
  }

  #dispatch(): void {
    for (const waiter of this.#waiters) {
      if (this.len() > 0) {
        this.#waiters.delete(waiter);
        waiter(this.#take());
      } else if (this.#shuttingDown) {
        this.#waiters.delete(waiter);
        waiter(undefined);
      } else {
        break;
      }
    }
  }
}
