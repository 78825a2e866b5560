import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ControllerMetrics } from './controller.js';
import type { WorkQueue, WorkQueueMetrics } from './workqueue.js';

/** Watch health observations, called by informers (through their observer hook). */
export interface WatchMetrics {
  relist(resource: string): void;
  restart(resource: string, reason: string): void;
  event(resource: string): void;
  /** An object the cache could not take (see the informer's `skippedObjects`). */
  skipped?(resource: string): void;
}

/**
 * prom-client, loaded when the first metrics are made, so that a program that records none does
 * not pay for it (with @opentelemetry/api, ~90 modules). It is CommonJS: this is the same module
 * instance an `import` of it gives.
 */
let promClient: typeof import('prom-client') | undefined;
function loadPromClient(): typeof import('prom-client') {
  promClient ??= createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
  return promClient;
}

const latencyBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60];

/**
 * The runtime's Prometheus collectors, with controller-runtime's names and labels so that
 * existing dashboards work, plus watch health. They register into the given registry (never the
 * global one), so several managers can live in one process.
 */
export class RuntimeMetrics {
  readonly registry: Registry;
  readonly #reconcileTotal: Counter<'controller' | 'result'>;
  readonly #reconcileErrors: Counter<'controller'>;
  readonly #reconcileTime: Histogram<'controller'>;
  readonly #depth: Gauge<'name'>;
  readonly #adds: Counter<'name'>;
  readonly #queueDuration: Histogram<'name'>;
  readonly #workDuration: Histogram<'name'>;
  readonly #retries: Counter<'name'>;
  readonly #queues = new Map<string, WorkQueue<string>>();
  readonly #relists: Counter<'resource'>;
  readonly #restarts: Counter<'resource' | 'reason'>;
  readonly #lastEvent: Gauge<'resource'>;
  readonly #skipped: Counter<'resource'>;

  constructor(registry: Registry) {
    const { Counter, Gauge, Histogram } = loadPromClient();
    this.registry = registry;
    const registers = [registry];
    this.#reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.#reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.#reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: latencyBuckets,
      registers,
    });
    this.#depth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name'],
      registers,
    });
    this.#adds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    this.#queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'],
      buckets: latencyBuckets,
      registers,
    });
    this.#workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'],
      buckets: latencyBuckets,
      registers,
    });
    this.#retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    const queues = this.#queues;
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and has not been observed by work_duration',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, queue] of queues) this.set({ name }, queue.unfinishedWorkSeconds());
      },
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, queue] of queues)
          this.set({ name }, queue.longestRunningProcessorSeconds());
      },
    });
    this.#relists = new Counter({
      name: 'vmcp_watch_relists_total',
      help: 'Full relists per watched resource (initial list included)',
      labelNames: ['resource'],
      registers,
    });
    this.#restarts = new Counter({
      name: 'vmcp_watch_restarts_total',
      help: 'Watch restarts per watched resource and reason',
      labelNames: ['resource', 'reason'],
      registers,
    });
    this.#lastEvent = new Gauge({
      name: 'vmcp_watch_last_event_timestamp_seconds',
      help: 'Unix time of the last event (bookmarks included) per watched resource',
      labelNames: ['resource'],
      registers,
    });
    this.#skipped = new Counter({
      name: 'vmcp_watch_objects_skipped_total',
      help: 'Objects an informer cache could not take (no metadata, a transform that threw)',
      labelNames: ['resource'],
      registers,
    });
  }

  /** Observations for one controller and its queue, named after the controller. */
  forController(name: string): ControllerMetrics {
    const queue: WorkQueueMetrics = {
      add: () => this.#adds.inc({ name }),
      depth: (depth) => this.#depth.set({ name }, depth),
      queueLatency: (seconds) => this.#queueDuration.observe({ name }, seconds),
      workDuration: (seconds) => this.#workDuration.observe({ name }, seconds),
      retry: () => this.#retries.inc({ name }),
    };
    return {
      queue,
      reconcile: (result, seconds) => {
        this.#reconcileTotal.inc({ controller: name, result });
        if (result === 'error') this.#reconcileErrors.inc({ controller: name });
        this.#reconcileTime.observe({ controller: name }, seconds);
      },
    };
  }

  /** Lets the pull-time gauges read a controller's queue. */
  trackQueue(name: string, queue: WorkQueue<string>): void {
    this.#queues.set(name, queue);
  }

  /** Watch health observations for informers. */
  readonly watch: WatchMetrics = {
    relist: (resource) => this.#relists.inc({ resource }),
    restart: (resource, reason) => this.#restarts.inc({ resource, reason }),
    event: (resource) => this.#lastEvent.set({ resource }, Date.now() / 1000),
    skipped: (resource) => this.#skipped.inc({ resource }),
  };
}
