import type { Registry } from 'prom-client';
import { type Clock, systemClock } from './clock.js';
import { Controller, type ControllerOptions, GRACEFUL_SHUTDOWN_RANGE } from './controller.js';
import { checkDuration, type DurationRange } from './duration.js';
import { RuntimeMetrics } from './metrics.js';
import type { Informer, Logger } from './types.js';
import { silentLogger } from './types.js';

/** A named health or readiness check: resolves true when healthy. */
export type Check = () => boolean | Promise<boolean>;

/** Options of {@link Manager}. */
export interface ManagerOptions {
  logger?: Logger;
  /**
   * Where the runtime's Prometheus metrics go (give a new `Registry` or your own; prom-client's
   * global one is never used implicitly). Without one the runtime records no metrics, does no
   * per-event metric work and never loads prom-client.
   */
  metricsRegistry?: Registry;
  /**
   * How long controllers made by {@link Manager.createController} may take to finish in-flight
   * reconciles after stop: 0 (abort them at once) to 1 h. Default 30 s.
   */
  gracefulShutdownTimeoutMs?: number;
  /**
   * Time of the controllers made by {@link Manager.createController} and of
   * {@link Manager.waitForCacheSync}'s timeout. Default: real time.
   */
  clock?: Clock;
}

/** `waitForCacheSync`'s `timeoutMs`: 0 (give up unless synced now) to 24 h. */
const CACHE_SYNC_TIMEOUT_RANGE: DurationRange = { min: 0, max: 86_400_000 };

/** The outcome of {@link Manager.healthz} / {@link Manager.readyz}. */
export interface CheckReport {
  ok: boolean;
  checks: Record<string, boolean>;
}

/**
 * Owns the lifecycle of informers and controllers: starts the informers, then the controllers
 * (which wait for their informers to sync), and on stop lets in-flight reconciles finish within
 * the grace period. Exposes the cache-sync gate, health and readiness checks, and metrics.
 *
 * @example
 * const manager = new Manager({ logger });
 * manager.addInformer(servers);
 * manager.addController(controller);
 * const done = manager.start(signal);
 * if (!(await manager.waitForCacheSync({ timeoutMs: 30_000 }))) throw new Error('not synced');
 */
export class Manager {
  /** The runtime's metrics; undefined when the manager was made without a registry. */
  readonly metrics: RuntimeMetrics | undefined;
  readonly #logger: Logger;
  readonly #graceMs: number;
  readonly #clock: Clock;
  readonly #informers: Informer[] = [];
  readonly #controllers: Controller[] = [];
  readonly #healthChecks = new Map<string, Check>();
  readonly #readyChecks = new Map<string, Check>();
  #state: 'new' | 'running' | 'stopped' = 'new';
  readonly #startWaiters = new Set<() => void>();

  constructor(options: ManagerOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#graceMs = checkDuration(
      'gracefulShutdownTimeoutMs',
      options.gracefulShutdownTimeoutMs,
      GRACEFUL_SHUTDOWN_RANGE,
      30_000,
    );
    this.#clock = options.clock ?? systemClock;
    this.metrics = options.metricsRegistry && new RuntimeMetrics(options.metricsRegistry);
    this.#readyChecks.set('informers-synced', () => this.hasSynced());
    this.#healthChecks.set('manager', () => this.#state === 'running');
  }

  get metricsRegistry(): Registry | undefined {
    return this.metrics?.registry;
  }

  /** The informers, in the order they were added. */
  get informers(): readonly Informer[] {
    return this.#informers;
  }

  /** The controllers, in the order they were added. */
  get controllers(): readonly Controller[] {
    return this.#controllers;
  }

  get started(): boolean {
    return this.#state !== 'new';
  }

  addInformer(informer: Informer): this {
    if (this.#state !== 'new') throw new Error('manager: informers must be added before start');
    this.#informers.push(informer);
    return this;
  }

  /**
   * Creates a controller wired to this manager: its metrics, logger, clock and grace period, then
   * adds it. Options given here win.
   */
  createController(options: ControllerOptions): Controller {
    const controller = new Controller({
      logger: this.#logger,
      clock: this.#clock,
      ...(this.metrics ? { metrics: this.metrics.forController(options.name) } : {}),
      gracefulShutdownTimeoutMs: this.#graceMs,
      ...options,
    });
    this.addController(controller);
    return controller;
  }

  addController(controller: Controller): this {
    if (this.#state !== 'new') throw new Error('manager: controllers must be added before start');
    this.#controllers.push(controller);
    this.metrics?.trackQueue(controller.name, controller.queue);
    return this;
  }

  addHealthCheck(name: string, check: Check): this {
    this.#healthChecks.set(name, check);
    return this;
  }

  addReadyCheck(name: string, check: Check): this {
    this.#readyChecks.set(name, check);
    return this;
  }

  /** True once every informer has synced. */
  hasSynced(): boolean {
    return this.#state === 'running' && this.#informers.every((informer) => informer.hasSynced());
  }

  /**
   * Runs informers and controllers until the signal aborts, then shuts down gracefully and
   * resolves. Call once: a second call rejects.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#state !== 'new') throw new Error('manager already started');
    this.#state = 'running';
    for (const wake of this.#startWaiters) wake();
    this.#startWaiters.clear();
    this.#logger.info(
      { informers: this.#informers.length, controllers: this.#controllers.length },
      'manager starting',
    );
    // Informers stop only after the controllers finished, so reconciles in their grace period
    // still read a live cache.
    const informerStop = new AbortController();
    const informers = this.#informers.map((informer) => informer.run(informerStop.signal));
    const controllers = this.#controllers.map((controller) => controller.start(signal));
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      await Promise.all([...controllers, aborted]);
    } finally {
      informerStop.abort();
      await Promise.allSettled(informers);
      this.#state = 'stopped';
      this.#logger.info('manager stopped');
    }
  }

  /**
   * Resolves true once every informer synced; false when the manager was not started, when
   * `timeoutMs` (0 to 24 h, default 30 s; else a `RangeError`) passes first, or when the signal
   * aborts. Callable many times.
   */
  async waitForCacheSync(
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<boolean> {
    const timeoutMs = checkDuration(
      'timeoutMs',
      options.timeoutMs,
      CACHE_SYNC_TIMEOUT_RANGE,
      30_000,
    );
    if (this.#state === 'new') {
      this.#logger.warn('waitForCacheSync called before start');
      return false;
    }
    if (this.#state === 'stopped') return false;
    const timeout = new AbortController();
    const cancel = this.#clock.setTimer(timeoutMs, () => timeout.abort());
    const signal = options.signal
      ? AbortSignal.any([options.signal, timeout.signal])
      : timeout.signal;
    try {
      const results = await Promise.all(
        this.#informers.map((informer) => informer.waitForSync(signal)),
      );
      return results.every(Boolean);
    } finally {
      cancel();
    }
  }

  /** Runs the health checks. */
  healthz(): Promise<CheckReport> {
    return runChecks(this.#healthChecks);
  }

  /** Runs the readiness checks: not ready until every informer synced. */
  readyz(): Promise<CheckReport> {
    return runChecks(this.#readyChecks);
  }
}

async function runChecks(checks: Map<string, Check>): Promise<CheckReport> {
  const results: Record<string, boolean> = {};
  for (const [name, check] of checks) {
    try {
      results[name] = await check();
    } catch {
      results[name] = false;
    }
  }
  return { ok: Object.values(results).every(Boolean), checks: results };
}
