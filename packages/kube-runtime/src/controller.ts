import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { type CountRange, checkCount } from './count.js';
import { checkDuration, type DurationRange } from './duration.js';
import type { RateLimiter } from './ratelimiter.js';
import {
  childLogger,
  type Informer,
  type KubeObject,
  type Logger,
  metaNamespaceKey,
  type ObjectKey,
  type ResourceRef,
  splitMetaNamespaceKey,
} from './types.js';
import { WorkQueue, type WorkQueueMetrics } from './workqueue.js';

/**
 * What a reconcile asks for next, when it is not simply done (return nothing: the key's backoff
 * is reset):
 * - `{ requeueAfterMs }`: run again after that long (controller-runtime's `RequeueAfter`); the
 *   key's backoff is reset.
 * - `{ requeue: true }`: run again after the delay of the controller's rate limiter, the same
 *   per-key backoff that a thrown error gets, growing with each such result until a reconcile of
 *   the key ends otherwise (controller-runtime's `Requeue` with its rate limiter). For a reconcile
 *   that could not finish for a reason that is not its own failure (a read the API server could
 *   not answer now): it is counted as `requeue`, not `error`, and not logged.
 */
export type ReconcileResult = { requeueAfterMs: number } | { requeue: true };

/** Context of one reconcile call. */
export interface ReconcileContext {
  /** Aborted when the controller stops and the grace period is over. */
  signal: AbortSignal;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a reconciler that returns nothing must typecheck
type ReconcileReturn = ReconcileResult | undefined | void;

/** A reconcile function: brings the world in line with the object named by `request`. */
export type Reconciler = (
  request: ObjectKey,
  context: ReconcileContext,
) => ReconcileReturn | Promise<ReconcileReturn>;

/**
 * An error that retrying cannot fix: the controller logs and counts it, and does not requeue.
 * Anything else a reconcile throws is retried with the rate limiter's backoff.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/** Maps a watched object to the requests it should trigger. */
export type MapFunction<T extends KubeObject> = (object: T) => ObjectKey[];

/** Observations of a controller, named after controller-runtime's metrics. */
export interface ControllerMetrics {
  /**
   * One reconcile ended: done, threw, asked to run again after a delay (`requeue_after`) or after
   * the rate limiter's backoff (`requeue`).
   */
  reconcile?(result: 'success' | 'error' | 'requeue_after' | 'requeue', seconds: number): void;
  queue?: WorkQueueMetrics;
}

/** Options of {@link Controller}. */
export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  /** How many keys are reconciled at once (never the same key twice). Default 1, at most 1024. */
  maxConcurrentReconciles?: number;
  rateLimiter?: RateLimiter<string>;
  logger?: Logger;
  metrics?: ControllerMetrics;
  clock?: Clock;
  /**
   * How long in-flight reconciles may take to finish after stop: 0 (abort them at once) to 1 h.
   * Default 30 s.
   */
  gracefulShutdownTimeoutMs?: number;
}

/** `gracefulShutdownTimeoutMs`: a shutdown that takes longer than an hour is a hang. */
export const GRACEFUL_SHUTDOWN_RANGE: DurationRange = { min: 0, max: 3_600_000 };

/** The reconciles a controller runs at once: 1 to 1024. */
export const MAX_CONCURRENT_RECONCILES: CountRange = { min: 1, max: 1024 };

/**
 * A controller: watches informers, maps their events to requests on a work queue, and runs
 * `reconcile` for each with bounded concurrency, client-go rate limiting and graceful shutdown.
 *
 * @example
 * const controller = new Controller({ name: 'backends', reconcile: async ({ namespace, name }) => {} });
 * controller.watches(mcpServers, (server) => [{ namespace: server.metadata.namespace!, name: server.metadata.name! }]);
 * await controller.start(signal);
 */
export class Controller {
  readonly name: string;
  readonly #reconcile: Reconciler;
  readonly #concurrency: number;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #clock: Clock;
  readonly #graceMs: number;
  readonly #queue: WorkQueue<string>;
  readonly #informers: Informer[] = [];
  #started = false;

  constructor(options: ControllerOptions) {
    if (!options.name) throw new TypeError('Controller: name is required');
    this.name = options.name;
    this.#reconcile = options.reconcile;
    this.#concurrency = checkCount(
      'maxConcurrentReconciles',
      options.maxConcurrentReconciles,
      MAX_CONCURRENT_RECONCILES,
      1,
    );
    this.#logger = childLogger(options.logger, { controller: options.name });
    this.#metrics = options.metrics ?? {};
    this.#clock = options.clock ?? systemClock;
    this.#graceMs = checkDuration(
      'gracefulShutdownTimeoutMs',
      options.gracefulShutdownTimeoutMs,
      GRACEFUL_SHUTDOWN_RANGE,
      30_000,
    );
    this.#queue = new WorkQueue<string>({
      clock: this.#clock,
      ...(options.rateLimiter === undefined ? {} : { rateLimiter: options.rateLimiter }),
      ...(this.#metrics.queue === undefined ? {} : { metrics: this.#metrics.queue }),
    });
  }

  /** The controller's queue (keys `namespace/name`), for metrics and tests. */
  get queue(): WorkQueue<string> {
    return this.#queue;
  }

  /** The resources (and namespaces) of the informers this controller watches, in order. */
  get watched(): readonly { resource: ResourceRef; namespace: string | undefined }[] {
    return this.#informers.map((informer) => ({
      resource: informer.resource,
      namespace: informer.namespace,
    }));
  }

  /**
   * Watches an informer: each add, update and delete is mapped to requests. For an update both
   * the old and the new object are mapped and the union is enqueued, so an object that moves out
   * of what `map` selects (say, to another group) is still reconciled once, through its old
   * state. `map` errors are logged and counted as nothing to enqueue.
   */
  watches<T extends KubeObject>(informer: Informer<T>, map: MapFunction<T>): this {
    if (this.#started)
      throw new Error(`controller ${this.name}: watches must be called before start`);
    this.#informers.push(informer as unknown as Informer);
    const enqueue = (...objects: T[]): void => {
      for (const object of objects) {
        let requests: ObjectKey[];
        try {
          requests = map(object);
        } catch (error) {
          this.#logger.error({ err: error }, 'map function failed; event dropped');
          continue;
        }
        for (const request of requests) this.#queue.add(metaNamespaceKey(request));
      }
    };
    informer.addEventHandler({
      onAdd: (object) => enqueue(object),
      onUpdate: (oldObject, newObject) => enqueue(oldObject, newObject),
      onDelete: (object) => enqueue(object),
    });
    return this;
  }

  /** Enqueues a request directly (a periodic resync, a test). */
  enqueue(request: ObjectKey): void {
    this.#queue.add(metaNamespaceKey(request));
  }

  /**
   * Waits for the watched informers to sync, then reconciles until the signal aborts. Then it
   * takes no new keys, lets reconciles in flight finish within the grace period, aborts them
   * past it, and resolves. Call once.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} already started`);
    this.#started = true;
    const synced = await Promise.all(this.#informers.map((i) => i.waitForSync(signal)));
    if (signal.aborted || synced.includes(false)) {
      this.#queue.shutDown();
      return;
    }
    this.#logger.info({ workers: this.#concurrency }, 'caches synced; starting workers');
    const hardStop = new AbortController();
    const workers = Array.from({ length: this.#concurrency }, () =>
      this.#worker(signal, hardStop.signal),
    );
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.#queue.shutDown();
    let cancelGrace = (): void => {};
    const grace = new Promise<void>((resolve) => {
      cancelGrace = this.#clock.setTimer(this.#graceMs, () => {
        this.#logger.warn({ graceMs: this.#graceMs }, 'grace period over; aborting reconciles');
        hardStop.abort(new Error(`controller ${this.name} stopped`));
        resolve();
      });
    });
    await Promise.race([Promise.all(workers), grace]);
    cancelGrace();
    await Promise.all(workers);
  }

  async #worker(stop: AbortSignal, hardStop: AbortSignal): Promise<void> {
    for (;;) {
      // A stopped controller hands out nothing more: the queue is shut down on abort, which wakes
      // a waiting `get` with undefined; keys still queued are dropped with it. (No signal for
      // `get`: an abort listener per key is what a busy controller would pay for it.)
      if (stop.aborted) return;
      const key = await this.#queue.get();
      if (key === undefined) return;
      if (stop.aborted) {
        this.#queue.done(key);
        return;
      }
      try {
        await this.#process(key, hardStop);
      } finally {
        this.#queue.done(key);
      }
    }
  }

  async #process(key: string, signal: AbortSignal): Promise<void> {
    const started = this.#clock.now();
    const seconds = (): number => (this.#clock.now() - started) / 1000;
    const request = splitMetaNamespaceKey(key);
    try {
      const result = (await this.#reconcile(request, { signal })) ?? undefined;
      if (result !== undefined && 'requeue' in result && result.requeue === true) {
        // The backoff grows: no forget until a reconcile of the key ends otherwise.
        this.#queue.addRateLimited(key);
        this.#metrics.reconcile?.('requeue', seconds());
      } else if (result !== undefined && 'requeueAfterMs' in result && result.requeueAfterMs > 0) {
        this.#queue.forget(key);
        this.#queue.addAfter(key, result.requeueAfterMs);
        this.#metrics.reconcile?.('requeue_after', seconds());
      } else {
        this.#queue.forget(key);
        this.#metrics.reconcile?.('success', seconds());
      }
    } catch (error) {
      this.#metrics.reconcile?.('error', seconds());
      if (error instanceof TerminalError) {
        this.#queue.forget(key);
        this.#logger.error(
          { err: error, key },
          'reconcile failed with a terminal error; not retried',
        );
      } else {
        this.#queue.addRateLimited(key);
        this.#logger.error(
          { err: error, key, retries: this.#queue.numRequeues(key) },
          'reconcile failed; retrying with backoff',
        );
      }
    }
  }
}
