import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ControllerMetrics } from './controller.js';
// prom-client is loaded when the first metrics are made, so that a program that records none
// does not pay for it, and then only the four classes used (see prom-client.ts).
import { loadPromClient } from './prom-client.js';
import type { WorkQueue, WorkQueueMetrics } from './workqueue.js';

/** Watch health observations, called by informers (through their observer hook). */
export interface WatchMetrics {
  relist(resource: string): void;
  restart(resource: string, reason: string): void;
  event(resource: string): void;
  /** An object the cache could not take (see the informer's `skippedObjects`). */
  skipped?(resource: string): void;
}

/** Makers of collectors registered in `registry` (and nowhere else). */
function collectorsIn(registry: Registry) {
  const { Counter, Gauge, Histogram } = loadPromClient();
  const registers = [registry];
  return {
    counter: <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers }),
    gauge: <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Gauge<L>({ name, help, labelNames, registers }),
    histogram: <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Histogram<L>({ name, help, labelNames, buckets: latencyBuckets, registers }),
  };
}

/** The work queue gauges read when scraped, from the queues tracked so far. */
function registerQueueGauges(
  registry: Registry,
  queues: ReadonlyMap<string, WorkQueue<string>>,
): void {
  const { Gauge } = loadPromClient();
  const registers = [registry];
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
    this.registry = registry;
    const { counter, gauge, histogram } = collectorsIn(registry);
    this.#reconcileTotal = counter(
      'controller_runtime_reconcile_total',
      'Total number of reconciliations per controller',
      ['controller', 'result'],
    );
    this.#reconcileErrors = counter(
      'controller_runtime_reconcile_errors_total',
      'Total number of reconciliation errors per controller',
      ['controller'],
    );
    this.#reconcileTime = histogram(
      'controller_runtime_reconcile_time_seconds',
      'Length of time per reconciliation per controller',
      ['controller'],
    );
    this.#depth = gauge('workqueue_depth', 'Current depth of workqueue', ['name']);
    this.#adds = counter('workqueue_adds_total', 'Total number of adds handled by workqueue', [
      'name',
    ]);
    this.#queueDuration = histogram(
      'workqueue_queue_duration_seconds',
      'How long in seconds an item stays in workqueue before being requested',
      ['name'],
    );
    this.#workDuration = histogram(
      'workqueue_work_duration_seconds',
      'How long in seconds processing an item from workqueue takes',
      ['name'],
    );
    this.#retries = counter(
      'workqueue_retries_total',
      'Total number of retries handled by workqueue',
      ['name'],
    );
    registerQueueGauges(registry, this.#queues);
    this.#relists = counter(
      'vmcp_watch_relists_total',
      'Full relists per watched resource (initial list included)',
      ['resource'],
    );
    this.#restarts = counter(
      'vmcp_watch_restarts_total',
      'Watch restarts per watched resource and reason',
      ['resource', 'reason'],
    );
    this.#lastEvent = gauge(
      'vmcp_watch_last_event_timestamp_seconds',
      'Unix time of the last event (bookmarks included) per watched resource',
      ['resource'],
    );
    this.#skipped = counter(
      'vmcp_watch_objects_skipped_total',
      'Objects an informer cache could not take (no metadata, a transform that threw)',
      ['resource'],
    );
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
