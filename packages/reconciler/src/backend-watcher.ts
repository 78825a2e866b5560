import { createRequire } from 'node:module';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  type DiscoveryReader,
  type KubeObjectLike,
  WORKLOAD_KINDS,
  type WorkloadKind,
} from '@vmcp/discoverer';
import {
  type Clock,
  type Controller,
  checkDuration,
  checkWatcherOptions,
  type DurationRange,
  dropApplyMetadata,
  InformerFactory,
  isNotFound,
  KubeClient,
  type KubeObject,
  type ListWatchInformerHandle,
  type Logger,
  Manager,
  ResourceClient,
  type ResourceRef,
  silentLogger,
  systemClock,
} from '@vmcp/kube-runtime';
import { type DynamicRegistry, redactBackend } from '@vmcp/registry';
import type { Counter, Registry } from 'prom-client';
import { BackendReconciler, type Decision, type FailingRead } from './backend-reconciler.js';
import {
  authConfigToRequests,
  CA_BUNDLE_INDEX,
  caBundleIndex,
  configMapToRequests,
  workloadToRequests,
} from './mappers.js';

const toolhive = (plural: string, kind: string): ResourceRef => ({
  group: 'toolhive.stacklok.dev',
  version: 'v1beta1',
  plural,
  kind,
});

/** The resources a watcher reads. */
export const RESOURCES = Object.freeze({
  MCPServer: toolhive('mcpservers', 'MCPServer'),
  MCPRemoteProxy: toolhive('mcpremoteproxies', 'MCPRemoteProxy'),
  MCPServerEntry: toolhive('mcpserverentries', 'MCPServerEntry'),
  MCPExternalAuthConfig: toolhive('mcpexternalauthconfigs', 'MCPExternalAuthConfig'),
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' } as ResourceRef,
  Secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' } as ResourceRef,
});

/** Upstream's cadence: controller-runtime's default SyncPeriod, 10 h. */
export const DEFAULT_RESYNC_PERIOD_MS = 10 * 60 * 60 * 1000;
/** How long one read of a reconcile (a Secret, a CA ConfigMap) may take. */
export const DEFAULT_READ_TIMEOUT_MS = 5_000;
/** Reconciles run at once (never two of the same name). Upstream runs one. */
export const DEFAULT_WORKERS = 4;

/**
 * The range of each duration option of {@link BackendWatcher} (and of the sidecar's flags that
 * set them); 0 turns the resync off.
 */
export const DURATION_RANGES = Object.freeze({
  /** 100 ms (below it a resync is a busy loop) to 720 h (30 days; the clock chains timers). */
  resyncPeriodMs: { minMs: 100, maxMs: 720 * 3_600_000, zeroTurnsOff: true },
  /** 1 ms to 10 min: a read hung longer than that is an outage, kept stale meanwhile. */
  readTimeoutMs: { minMs: 1, maxMs: 600_000 },
  /** 0 (abort reconciles at once) to 1 h: a shutdown that takes longer is a hang. */
  gracefulShutdownTimeoutMs: { minMs: 0, maxMs: 3_600_000 },
  /** `waitForCacheSync` and `waitForRegistrySync`: 0 to 24 h. */
  syncTimeoutMs: { minMs: 0, maxMs: 86_400_000 },
} satisfies Record<string, DurationRange>);

/**
 * The next resync delay: the period jittered by ×0.9–1.1, as controller-runtime jitters its
 * SyncPeriod, so that replicas started together do not resync together.
 */
export function jitteredResyncMs(periodMs: number, random: () => number = Math.random): number {
  return Math.round(periodMs * (0.9 + 0.2 * random()));
}

/** The informers of one watcher, by the kind they watch. */
type Informers = Record<
  WorkloadKind | 'MCPExternalAuthConfig' | 'ConfigMap',
  ListWatchInformerHandle<KubeObject>
>;

/** Options of {@link BackendWatcher}. */
export interface BackendWatcherOptions {
  kubeConfig: KubeConfig;
  /** The one namespace watched; backend ids are resource names within it. */
  namespace: string;
  /** `name`, or `namespace/name` where the namespace must be the watcher's own. */
  groupRef: string;
  registry: DynamicRegistry;
  logger?: Logger;
  /**
   * Where the watcher's and its runtime's Prometheus metrics go. Without one no metrics are
   * recorded and prom-client is never loaded.
   */
  metricsRegistry?: Registry;
  /**
   * Re-reconcile every workload of the group about this often (jittered ×0.9–1.1), so that a
   * rotated Secret (Secrets are read, never watched) is picked up. Default 10 h, upstream's
   * cadence (controller-runtime's SyncPeriod); 0 turns it off; else 100 ms to 720 h. A resync
   * during an API outage keeps what is served: its reads fail for a transient reason.
   */
  resyncPeriodMs?: number;
  /**
   * How long each read a reconcile makes (a Secret, a CA ConfigMap's data) may take before it
   * counts as a transient failure: 1 ms to 10 min. Default 5 s.
   */
  readTimeoutMs?: number;
  /**
   * Reconciles run at once (the queue never hands out one name twice). Default 4, so that reads
   * hung on a sick API server hold up other names for at most `readTimeoutMs`. Upstream runs 1.
   */
  workers?: number;
  /** Timers of the resync. Default the system clock. */
  clock?: Clock;
  /** Random source of the resync jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Wall-clock time (epoch ms) of `lastResolvedAt` and `failingSince`. Default `Date.now`. */
  now?: () => number;
  /** Grace period for in-flight reconciles at stop: 0 (abort them at once) to 1 h. Default 30 s. */
  gracefulShutdownTimeoutMs?: number;
  /** Options for every watch (stall timeout, backoff), mostly for tests. */
  watcher?: import('@vmcp/kube-runtime').WatcherOptions;
}

/**
 * The duration options of a watcher, checked (a `RangeError` naming the one out of range) and
 * with their defaults.
 */
function durationsOf(options: BackendWatcherOptions) {
  if (options.watcher !== undefined) checkWatcherOptions(options.watcher);
  const check = (option: keyof typeof DURATION_RANGES, fallback: number) =>
    checkDuration(
      option,
      options[option as keyof BackendWatcherOptions],
      DURATION_RANGES[option],
      fallback,
    );
  return {
    resyncPeriodMs: check('resyncPeriodMs', DEFAULT_RESYNC_PERIOD_MS),
    readTimeoutMs: check('readTimeoutMs', DEFAULT_READ_TIMEOUT_MS),
    gracefulShutdownTimeoutMs: check('gracefulShutdownTimeoutMs', 30_000),
  };
}

/** The `timeoutMs` of a sync wait, checked, or its default. */
const syncTimeoutOf = (options: { timeoutMs?: number }): number =>
  checkDuration('timeoutMs', options.timeoutMs, DURATION_RANGES.syncTimeoutMs, 30_000);

/** Parses `name` or `namespace/name`; the namespace must be the watcher's own. */
export function parseGroupRef(groupRef: string, namespace: string): string {
  const parts = groupRef.split('/');
  if (parts.length === 1 && parts[0]) return parts[0];
  if (parts.length === 2 && parts[0] && parts[1]) {
    if (parts[0] !== namespace) {
      throw new Error(
        `groupRef ${JSON.stringify(groupRef)} names namespace ${JSON.stringify(parts[0])}, but the watcher watches ${JSON.stringify(namespace)}: a group is always in the watcher's own namespace`,
      );
    }
    return parts[1];
  }
  throw new Error(`groupRef ${JSON.stringify(groupRef)} is not "name" or "namespace/name"`);
}

/**
 * Keeps a dynamic registry in step with the MCPServers, MCPRemoteProxies and MCPServerEntries of
 * one group in one namespace, and with the auth configs, Secrets and CA ConfigMaps they
 * reference. Upstream's BackendWatcher, on `@vmcp/kube-runtime`.
 *
 * @example
 * const registry = createDynamicRegistry();
 * const watcher = new BackendWatcher({ kubeConfig, namespace: 'tools', groupRef: 'engineering', registry });
 * const done = watcher.start(signal);
 * if (await watcher.waitForCacheSync()) console.log(registry.list());
 */
export class BackendWatcher {
  readonly namespace: string;
  readonly group: string;
  readonly registry: DynamicRegistry;
  readonly manager: Manager;
  readonly #options: BackendWatcherOptions;
  readonly #durations: ReturnType<typeof durationsOf>;
  readonly #logger: Logger;
  readonly #shadowed: Counter<'kind'> | undefined;
  readonly #skipped: Counter<'reason'> | undefined;
  #reconciler: BackendReconciler | undefined;
  #controller: Controller | undefined;
  #registrySynced = false;
  #started = false;
  #running = false;

  constructor(options: BackendWatcherOptions) {
    if (options === undefined || options === null)
      throw new TypeError('BackendWatcher: options are required');
    if (!options.kubeConfig) throw new TypeError('BackendWatcher: kubeConfig cannot be empty');
    if (typeof options.namespace !== 'string' || options.namespace === '') {
      throw new TypeError('BackendWatcher: namespace cannot be empty');
    }
    if (typeof options.groupRef !== 'string' || options.groupRef === '') {
      throw new TypeError('BackendWatcher: groupRef cannot be empty');
    }
    if (!options.registry) throw new TypeError('BackendWatcher: registry cannot be empty');
    this.#durations = durationsOf(options);
    this.namespace = options.namespace;
    this.group = parseGroupRef(options.groupRef, options.namespace);
    this.registry = options.registry;
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({
      namespace: this.namespace,
      group: this.group,
    });
    this.manager = new Manager({
      logger: this.#logger,
      ...(options.metricsRegistry ? { metricsRegistry: options.metricsRegistry } : {}),
      gracefulShutdownTimeoutMs: this.#durations.gracefulShutdownTimeoutMs,
    });
    const metricsRegistry = this.manager.metricsRegistry;
    if (metricsRegistry === undefined) return;
    // Loaded only now, so that a watcher without metrics never pays for it (CommonJS: the same
    // module instance as the caller's `import`).
    const { Counter, Gauge } = createRequire(import.meta.url)(
      'prom-client',
    ) as typeof import('prom-client');
    const registers = [metricsRegistry];
    this.#shadowed = new Counter({
      name: 'vmcp_backend_shadowed_total',
      help: 'Reconciles that found several workload kinds sharing one name (the first in precedence wins)',
      labelNames: ['kind'],
      registers,
    });
    this.#skipped = new Counter({
      name: 'vmcp_backend_skipped_total',
      help: 'Workloads of the group that are not backends, by reason',
      labelNames: ['reason'],
      registers,
    });
    const now = options.now ?? Date.now;
    const kept = () => this.failingReads().filter((failing) => failing.served);
    new Gauge({
      name: 'vmcp_backends_kept_stale',
      help: 'Served backends kept as last resolved because a read they need fails for a transient reason',
      registers,
      collect() {
        this.set(kept().length);
      },
    });
    new Gauge({
      name: 'vmcp_backends_kept_stale_oldest_seconds',
      help: 'Age of the oldest resolution among the backends kept stale (0 when none is)',
      registers,
      collect() {
        const oldest = Math.min(...kept().map((k) => k.lastResolvedAt ?? k.failingSince));
        this.set(Number.isFinite(oldest) ? Math.max(0, (now() - oldest) / 1000) : 0);
      },
    });
  }

  /**
   * The names whose reads fail for a transient reason now. Served ones are kept exactly as last
   * resolved; the others stay absent until a read succeeds.
   */
  failingReads(): FailingRead[] {
    return this.#reconciler?.failingReads() ?? [];
  }

  /** The metrics of the watcher and its runtime, when it was given a registry. */
  get metricsRegistry(): Registry | undefined {
    return this.manager.metricsRegistry;
  }

  /** True while the watch loops run. */
  isAlive(): boolean {
    return this.#running;
  }

  /**
   * Runs until the signal aborts, then shuts down gracefully (in-flight reconciles finish within
   * the grace period). Call once: a second call rejects with "watcher already started".
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error('watcher already started');
    this.#started = true;
    const client = new KubeClient(this.#options.kubeConfig);
    const informers = this.#informers(client);
    // Reads in flight at stop get the grace period (as the reconciles that make them), then end.
    // Real time, as the controller's grace period: `clock` drives the resync only.
    const reads = new AbortController();
    const endReads = (): void => {
      systemClock.setTimer(this.#durations.gracefulShutdownTimeoutMs, () => reads.abort());
    };
    if (signal.aborted) endReads();
    else signal.addEventListener('abort', endReads, { once: true });
    const workers = Math.max(1, this.#options.workers ?? DEFAULT_WORKERS);
    const { readTimeoutMs, resyncPeriodMs } = this.#durations;
    const reconciler = this.#createReconciler(client, informers, reads.signal, readTimeoutMs);
    const controller = this.manager.createController({
      name: 'vmcp-backends',
      reconcile: (request) => reconciler.reconcile(request),
      maxConcurrentReconciles: workers,
    });
    this.#controller = controller;
    this.#watch(controller, informers);
    const stopResync = this.#scheduleResync(() => this.#resyncAll(controller, informers));

    this.#running = true;
    this.#logger.info({ workers, readTimeoutMs, resyncPeriodMs }, 'backend watcher starting');
    try {
      await this.manager.start(signal);
    } finally {
      this.#running = false;
      stopResync();
      signal.removeEventListener('abort', endReads);
      reads.abort();
      await client.close();
      this.#logger.info('backend watcher stopped');
    }
  }

  /** The informers the watcher reads, registered with the manager. */
  #informers(client: KubeClient): Informers {
    const factory = new InformerFactory({
      client,
      // Nothing here reads apply bookkeeping; the last-applied annotation alone can double what a
      // kubectl-applied object takes in the cache.
      transform: dropApplyMetadata,
      namespace: this.namespace,
      // The informers bind their namespace (and resource) themselves: bound here too, it would be
      // a second `namespace` key on each of their lines.
      logger: (this.#options.logger ?? silentLogger).child({ group: this.group }),
      ...(this.manager.metrics ? { metrics: this.manager.metrics.watch } : {}),
      ...(this.#options.watcher ? { watcher: this.#options.watcher } : {}),
    });
    const informers: Informers = {
      MCPServer: factory.informerFor(RESOURCES.MCPServer),
      MCPRemoteProxy: factory.informerFor(RESOURCES.MCPRemoteProxy),
      MCPServerEntry: factory.informerFor(RESOURCES.MCPServerEntry),
      MCPExternalAuthConfig: factory.informerFor(RESOURCES.MCPExternalAuthConfig),
      // Names and versions only: a CA bundle's data is read when an entry needs it, so the
      // namespace's other ConfigMaps (up to 1 MiB each) are never held.
      ConfigMap: factory.informerFor(RESOURCES.ConfigMap, { metadataOnly: true }),
    };
    informers.MCPServerEntry.addIndex(CA_BUNDLE_INDEX, caBundleIndex);
    for (const informer of Object.values(informers)) this.manager.addInformer(informer);
    return informers;
  }

  /** The reconciler, reading workloads from the caches and Secrets and CA data by bounded GETs. */
  #createReconciler(
    client: KubeClient,
    informers: Informers,
    signal: AbortSignal,
    readTimeoutMs: number,
  ): BackendReconciler {
    const direct = { getTimeoutMs: readTimeoutMs };
    const secrets = new ResourceClient(client, RESOURCES.Secret, this.namespace, direct);
    const configMaps = new ResourceClient(client, RESOURCES.ConfigMap, this.namespace, direct);
    // Workloads are read from the caches synchronously by the reconciler, and through the reader
    // (the same lookup) by the discoverer.
    const cachedWorkload = (kind: WorkloadKind, namespace: string, name: string) =>
      informers[kind].store.get({ namespace, name }) as KubeObjectLike | undefined;
    const reader = this.#reader(informers, { secrets, configMaps, signal }, cachedWorkload);
    this.#reconciler = new BackendReconciler({
      namespace: this.namespace,
      group: this.group,
      registry: this.registry,
      reader,
      cachedWorkload,
      logger: this.#logger,
      observer: { decided: (name, decision) => this.#observe(name, decision) },
      ...(this.#options.now ? { now: this.#options.now } : {}),
    });
    return this.#reconciler;
  }

  /** What each informer's events enqueue, with the group filter applied first. */
  #watch(controller: Controller, informers: Informers): void {
    // Workloads: enqueued only when in our group. The controller maps the old and the new object
    // of an update, so a workload moving out of the group is still enqueued (and removed).
    for (const kind of WORKLOAD_KINDS) {
      controller.watches(informers[kind], workloadToRequests(kind, this.group, this.namespace));
    }
    // Auth configs: every workload of our group that references the changed config.
    const stores = {
      MCPServer: informers.MCPServer.store,
      MCPRemoteProxy: informers.MCPRemoteProxy.store,
      MCPServerEntry: informers.MCPServerEntry.store,
    };
    controller.watches(
      informers.MCPExternalAuthConfig,
      authConfigToRequests(stores, this.group, this.namespace),
    );
    // CA ConfigMaps: the entries of our group that reference it, through the field index.
    controller.watches(
      informers.ConfigMap,
      configMapToRequests(informers.MCPServerEntry.store, this.group, this.namespace),
    );
  }

  /** Enqueues every served backend and every workload of the group (the resync). */
  #resyncAll(controller: Controller, informers: Informers): void {
    const names = new Set(this.registry.list().map((b) => b.id));
    for (const kind of WORKLOAD_KINDS) {
      const inGroup = workloadToRequests(kind, this.group, this.namespace);
      for (const workload of informers[kind].store.list()) {
        if (inGroup(workload).length > 0) names.add(workload.metadata.name as string);
      }
    }
    for (const name of names) controller.enqueue({ namespace: this.namespace, name });
  }

  /** Calls `resyncAll` every jittered resync period until the returned function is called. */
  #scheduleResync(resyncAll: () => void): () => void {
    const periodMs = this.#durations.resyncPeriodMs;
    if (periodMs === 0) return () => undefined;
    const clock = this.#options.clock ?? systemClock;
    let cancel: () => void = () => undefined;
    const next = (): void => {
      cancel = clock.setTimer(jitteredResyncMs(periodMs, this.#options.random), () => {
        resyncAll();
        next();
      });
    };
    next();
    return () => cancel();
  }

  /**
   * True once every informer synced; false when not started (with a warning), on timeout
   * (0 to 24 h, default 30 s) or abort. Callable many times: the readiness gate.
   */
  async waitForCacheSync(
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<boolean> {
    syncTimeoutOf(options);
    if (!this.#started) {
      this.#logger.warn('waitForCacheSync called before start');
      return false;
    }
    return this.manager.waitForCacheSync({
      timeoutMs: options.timeoutMs ?? 30_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * True once the caches synced and the registry reflects them: every object of the initial
   * lists has been reconciled once (the work queue was seen empty and idle after the sync). Stays
   * true afterwards. Cache sync alone (upstream's gate) can leave the registry empty for a
   * moment; a readiness gate built on this never serves that moment.
   */
  hasSynced(): boolean {
    if (this.#registrySynced) return true;
    const queue = this.#controller?.queue;
    if (queue === undefined || !this.#running || !this.manager.hasSynced()) return false;
    this.#registrySynced = queue.len() === 0 && queue.processingCount === 0;
    return this.#registrySynced;
  }

  /**
   * Resolves true once {@link hasSynced}; false when not started, on timeout (0 to 24 h, default
   * 30 s) or abort.
   */
  async waitForRegistrySync(
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<boolean> {
    const deadline = systemClock.now() + syncTimeoutOf(options);
    if (!(await this.waitForCacheSync(options))) return false;
    while (!this.hasSynced()) {
      if (options.signal?.aborted || systemClock.now() >= deadline || !this.#running) return false;
      await new Promise((resolve) => systemClock.setTimer(10, () => resolve(undefined)));
    }
    return true;
  }

  /**
   * Why `name` is or is not a backend, through the same code path as the reconciles, with the
   * name's failing read when it has one (the backend then served is the one last resolved). A
   * backend in the answer has its secret values redacted: an explanation is made to be printed.
   */
  async explain(name: string): Promise<Awaited<ReturnType<BackendReconciler['explain']>>> {
    if (this.#reconciler === undefined) throw new Error('explain needs a started watcher');
    const explanation = await this.#reconciler.explain(name);
    const outcome = explanation.outcome;
    return outcome?.kind === 'backend'
      ? { ...explanation, outcome: { kind: 'backend', backend: redactBackend(outcome.backend) } }
      : explanation;
  }

  #reader(
    informers: Informers,
    direct: { secrets: ResourceClient; configMaps: ResourceClient; signal: AbortSignal },
    cachedWorkload: (
      kind: WorkloadKind,
      namespace: string,
      name: string,
    ) => KubeObjectLike | undefined,
  ): DiscoveryReader {
    /** A bounded GET; a 404 is a missing object, any other failure throws for the discoverer. */
    const get = (client: ResourceClient) => async (_namespace: string, name: string) => {
      try {
        return (await client.get(name, direct.signal)) as KubeObjectLike;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    };
    return {
      getWorkload: async (kind, namespace, name) => cachedWorkload(kind, namespace, name),
      listWorkloads: async (kind) => informers[kind].store.list() as KubeObjectLike[],
      getExternalAuthConfig: async (namespace, name) =>
        informers.MCPExternalAuthConfig.store.get({ namespace, name }) as
          | KubeObjectLike
          | undefined,
      // ConfigMaps: the informer holds metadata only; the data of the one CA bundle is read here.
      getConfigMap: get(direct.configMaps),
      // Secrets: a direct GET (RBAC `get` only), never a cache that would watch every Secret.
      getSecret: get(direct.secrets),
    };
  }

  #observe(name: string, decision: Decision): void {
    if ('shadowed' in decision) for (const kind of decision.shadowed) this.#shadowed?.inc({ kind });
    if (decision.action === 'remove' && decision.reason === 'skipped')
      this.#skipped?.inc({ reason: decision.outcome.reason });
    if (decision.action === 'upsert' && decision.changed) {
      this.#logger.info(
        { backend: name, kind: decision.kind, version: this.registry.version },
        'backend upserted',
      );
    }
  }
}
