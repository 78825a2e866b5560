import type { KubeConfig } from '@kubernetes/client-node';
import {
  type DiscoveryReader,
  type KubeObjectLike,
  WORKLOAD_KINDS,
  type WorkloadKind,
} from '@vmcp/discoverer';
import {
  APPLY_METADATA_FIELDS,
  type Clock,
  type Controller,
  checkCount,
  checkDuration,
  checkWatcherOptions,
  childLogger,
  type DurationRange,
  dropApplyMetadata,
  InformerFactory,
  isNotFound,
  KubeClient,
  type KubeObject,
  keepIdentity,
  type ListWatchInformerHandle,
  type Logger,
  Manager,
  ResourceClient,
  type ResourceRef,
  systemClock,
} from '@vmcp/kube-runtime';
import { type DynamicRegistry, redactBackend } from '@vmcp/registry';
import type { Registry } from 'prom-client';
import { BackendReconciler, type Decision } from './backend-reconciler.js';
import type { FailingRead } from './failing-reads.js';
import { InitialSync } from './initial-sync.js';
import {
  authConfigToRequests,
  CA_BUNDLE_INDEX,
  caBundleIndex,
  configMapToRequests,
  type WorkloadStores,
  workloadToRequests,
} from './mappers.js';
import { type OutgoingAuth, type OutgoingAuthConfig, toOutgoingAuth } from './outgoing-auth.js';
import { runPeriodically } from './periodic.js';
import { DEFAULT_SECRET_REFRESH_PERIOD_MS, startSecretRefresh } from './secret-refresh.js';
import { createWatcherMetrics, type WatcherMetrics } from './watcher-metrics.js';

export { jitteredResyncMs } from './periodic.js';
export { DEFAULT_SECRET_REFRESH_PERIOD_MS } from './secret-refresh.js';

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

/** The `workers` a watcher accepts: 1 to 64 (the sidecar's `--workers` takes the same). */
export const WORKERS_RANGE = { min: 1, max: 64 } as const;
/**
 * How long readiness waits, after the caches synced, for names of the initial lists whose reads
 * fail: 30 s, as the readiness gate's own default wait.
 */
export const DEFAULT_INITIAL_SYNC_TIMEOUT_MS = 30_000;

/**
 * The range of each duration option of {@link BackendWatcher} (and of the sidecar's flags that
 * set them), in milliseconds: the workspace's rule for durations (checked where they enter, a
 * `RangeError` naming the option, the value and the limit outside).
 */
export const DURATION_RANGES = Object.freeze({
  /** 100 ms (below it a resync is a busy loop) to 720 h (30 days; the clock chains timers), or 0: off. */
  resyncPeriodMs: { min: 100, max: 720 * 3_600_000, off: true },
  /** 1 ms to 10 min: a read hung longer than that is an outage, kept stale meanwhile. */
  readTimeoutMs: { min: 1, max: 600_000 },
  /** 1 s (not a loop against the API server) to 720 h (a period's ceiling), or 0: off. */
  secretRefreshPeriodMs: { min: 1_000, max: 720 * 3_600_000, off: true },
  /** 1 s to 1 h: longer than any rollout waits for a pod to become ready. */
  initialSyncTimeoutMs: { min: 1_000, max: 3_600_000 },
  /** 0 (abort reconciles at once) to 1 h: a shutdown that takes longer is a hang. */
  gracefulShutdownTimeoutMs: { min: 0, max: 3_600_000 },
  /** `waitForCacheSync` and `waitForRegistrySync`: 0 to 24 h. */
  syncTimeoutMs: { min: 0, max: 86_400_000 },
} satisfies Record<string, DurationRange>);

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
   * The secret refresh reads this many Secrets at once too. A whole number from 1 to 64 (a
   * `RangeError` otherwise).
   */
  workers?: number;
  /**
   * Re-read every Secret that a workload of the group was resolved from (or waits for) about this
   * often (jittered ×0.9–1.1), each Secret once however many backends use it, metadata only, each
   * read within `readTimeoutMs`; a changed `resourceVersion` re-reconciles exactly the names that
   * use it, so a rotated Secret is served within about one period plus one reconcile. A failed
   * read keeps what is served. Default 60 s; 0 turns it off; otherwise 1 s to 720 h.
   */
  secretRefreshPeriodMs?: number;
  /**
   * How long {@link BackendWatcher.hasSynced} waits, after the caches synced, for names of the
   * initial lists whose reads fail (for a transient reason) before it turns true anyway, with
   * those names reported by {@link BackendWatcher.pendingInitialNames}. Default 30 s; 1 s to 1 h.
   */
  initialSyncTimeoutMs?: number;
  /**
   * Timers of the resync, the secret refresh, the readiness bound and the controller (the retry
   * delays of its rate limiter). Default the system clock. Each read's bound and the grace period
   * at stop stay on real time.
   */
  clock?: Clock;
  /** Random source of the resync's and the secret refresh's jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Wall-clock time (epoch ms) of `lastResolvedAt` and `failingSince`. Default `Date.now`. */
  now?: () => number;
  /** Grace period for in-flight reconciles at stop: 0 (abort them at once) to 1 h. Default 30 s. */
  gracefulShutdownTimeoutMs?: number;
  /** Options for every watch (stall timeout, backoff), mostly for tests. */
  watcher?: import('@vmcp/kube-runtime').WatcherOptions;
  /**
   * The vMCP config's `outgoingAuth` (as the file spells it, or checked by `parseOutgoingAuth`):
   * applied to every backend before it is stored, as upstream applies it. The spelled form is
   * checked here, its `...Env` fields read from `process.env`; a bad one throws
   * `OutgoingAuthConfigError`. Replace it at run time with {@link BackendWatcher.setOutgoingAuth}.
   */
  outgoingAuth?: OutgoingAuthConfig | OutgoingAuth;
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
 * if (await watcher.waitForRegistrySync()) console.log(registry.list());
 */
export class BackendWatcher {
  readonly namespace: string;
  readonly group: string;
  readonly registry: DynamicRegistry;
  readonly manager: Manager;
  readonly #options: BackendWatcherOptions;
  readonly #logger: Logger;
  readonly #settings: Settings;
  readonly #metrics: WatcherMetrics | undefined;
  readonly #initialSync = new InitialSync();
  /** Cancels the readiness bound's timer: once every initial name was decided, or at stop. */
  #cancelInitialSyncBound: () => void = () => undefined;
  /** Backends upserted before the registry first synced: logged one by one at debug only. */
  #initialUpserts = 0;
  #reconciler: BackendReconciler | undefined;
  /** Readers for explain: one that reads afresh (bounded by a signal), one that never reads. */
  #explainReaders:
    | { fresh(signal: AbortSignal): DiscoveryReader; held: DiscoveryReader }
    | undefined;
  #registrySynced = false;
  #started = false;
  #running = false;
  #outgoingAuth: OutgoingAuth | undefined;
  /** Enqueues every name the watcher knows of; set while running. */
  #enqueueAll: (() => void) | undefined;

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
    this.namespace = options.namespace;
    this.group = parseGroupRef(options.groupRef, options.namespace);
    this.registry = options.registry;
    this.#options = options;
    this.#settings = settingsOf(options);
    this.#logger = childLogger(options.logger, {
      namespace: this.namespace,
      group: this.group,
    });
    this.#outgoingAuth = toOutgoingAuth(options.outgoingAuth);
    this.manager = new Manager({
      logger: this.#logger,
      ...(options.metricsRegistry ? { metricsRegistry: options.metricsRegistry } : {}),
      gracefulShutdownTimeoutMs: this.#settings.gracefulShutdownTimeoutMs,
    });
    const metricsRegistry = this.manager.metricsRegistry;
    this.#metrics =
      metricsRegistry &&
      createWatcherMetrics(metricsRegistry, {
        failingReads: () => this.failingReads(),
        secretsTracked: () => this.#reconciler?.secretDependencies.size ?? 0,
        now: options.now ?? Date.now,
      });
  }

  /** The `outgoingAuth` applied now; undefined without one. Holds secret material. */
  get outgoingAuth(): OutgoingAuth | undefined {
    return this.#outgoingAuth;
  }

  /**
   * Replaces the `outgoingAuth` (a reloaded vMCP config): every name is reconciled again with it,
   * and the registry's version moves only for backends whose content changed. One that gives
   * every backend the same auth as the current one changes nothing. A bad one throws
   * `OutgoingAuthConfigError` and leaves the current one in place. `undefined` goes back to
   * discovered auth only.
   */
  setOutgoingAuth(config: OutgoingAuthConfig | OutgoingAuth | undefined): void {
    const next = toOutgoingAuth(config);
    const current = this.#outgoingAuth;
    if (next === current || next?.equals(current)) return;
    this.#outgoingAuth = next;
    this.#logger.info(
      { outgoingAuth: next?.summary() ?? null },
      'outgoing auth replaced; reconciling every backend again',
    );
    this.#enqueueAll?.();
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
    // Real time, as each read's own bound: a stop ends them even when `clock` is a test's clock.
    const reads = new AbortController();
    const endReads = (): void => {
      systemClock.setTimer(this.#settings.gracefulShutdownTimeoutMs, () => reads.abort());
    };
    if (signal.aborted) endReads();
    else signal.addEventListener('abort', endReads, { once: true });
    const { workers, readTimeoutMs, clock } = this.#settings;
    const reconciler = this.#createReconciler(client, informers, reads.signal);
    const controller = this.manager.createController({
      name: 'vmcp-backends',
      reconcile: (request) => reconciler.reconcile(request),
      maxConcurrentReconciles: workers,
      // Retry delays (the rate limiter's backoff) run on the watcher's clock.
      clock,
    });
    this.#watch(controller, informers);
    this.#enqueueAll = () => this.#resyncAll(controller, informers);
    const stops = [
      runPeriodically({
        clock,
        periodMs: this.#settings.resyncPeriodMs,
        random: this.#options.random,
        task: () => this.#resyncAll(controller, informers),
      }),
      this.#startSecretRefresh(client, reconciler, controller, reads.signal),
      this.#followInitialSync(informers, controller, signal),
    ];

    this.#running = true;
    this.#logger.info(
      {
        workers,
        readTimeoutMs,
        resyncPeriodMs: this.#settings.resyncPeriodMs,
        secretRefreshPeriodMs: this.#settings.secretRefreshPeriodMs,
        initialSyncTimeoutMs: this.#settings.initialSyncTimeoutMs,
      },
      'backend watcher starting',
    );
    try {
      await this.manager.start(signal);
    } finally {
      this.#running = false;
      this.#enqueueAll = undefined;
      for (const stop of stops) stop();
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
      // kubectl-applied object takes in the cache. Both are cut from each object's bytes before
      // it is parsed (the annotation is a second copy of the object, managedFields about 40 % of
      // a workload's bytes), so they cost neither the parse nor its garbage; the transform then
      // finds nothing left to drop.
      transform: dropApplyMetadata,
      dropBeforeParse: APPLY_METADATA_FIELDS,
      namespace: this.namespace,
      // The informers bind their namespace (and resource) themselves: bound here too, it would be
      // a second `namespace` key on each of their lines.
      logger: childLogger(this.#options.logger, { group: this.group }),
      ...(this.manager.metrics ? { metrics: this.manager.metrics.watch } : {}),
      ...(this.#options.watcher ? { watcher: this.#options.watcher } : {}),
    });
    const informers: Informers = {
      MCPServer: factory.informerFor(RESOURCES.MCPServer),
      MCPRemoteProxy: factory.informerFor(RESOURCES.MCPRemoteProxy),
      MCPServerEntry: factory.informerFor(RESOURCES.MCPServerEntry),
      MCPExternalAuthConfig: factory.informerFor(RESOURCES.MCPExternalAuthConfig),
      // Names and versions only (watched as metadata, then cut to their identity): the mapping
      // reads a ConfigMap's name, and a CA bundle's data is read when an entry needs it, so the
      // namespace's other ConfigMaps (up to 1 MiB each, and their labels and annotations) are
      // never held.
      ConfigMap: factory.informerFor(RESOURCES.ConfigMap, {
        metadataOnly: true,
        transform: keepIdentity,
      }),
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
  ): BackendReconciler {
    const direct = { getTimeoutMs: this.#settings.readTimeoutMs };
    const secrets = new ResourceClient(client, RESOURCES.Secret, this.namespace, direct);
    const configMaps = new ResourceClient(client, RESOURCES.ConfigMap, this.namespace, direct);
    // Workloads are read from the caches synchronously by the reconciler, and through the reader
    // (the same lookup) by the discoverer.
    const cachedWorkload = (kind: WorkloadKind, namespace: string, name: string) =>
      informers[kind].store.get({ namespace, name }) as KubeObjectLike | undefined;
    const reader = this.#reader(informers, { secrets, configMaps, signal }, cachedWorkload);
    this.#explainReaders = {
      fresh: (explainSignal) =>
        this.#reader(
          informers,
          { secrets, configMaps, signal: AbortSignal.any([signal, explainSignal]) },
          cachedWorkload,
        ),
      held: { ...reader, getConfigMap: notRead('ConfigMap'), getSecret: notRead('Secret') },
    };
    this.#reconciler = new BackendReconciler({
      namespace: this.namespace,
      group: this.group,
      registry: this.registry,
      reader,
      cachedWorkload,
      logger: this.#logger,
      observer: { decided: (name, decision) => this.#observe(name, decision) },
      ...(this.#options.now ? { now: this.#options.now } : {}),
      outgoingAuth: () => this.#outgoingAuth,
    });
    return this.#reconciler;
  }

  /** What each informer's events enqueue, with the group filter applied first. */
  #watch(controller: Controller, informers: Informers): void {
    const stores: WorkloadStores = {
      MCPServer: informers.MCPServer.store,
      MCPRemoteProxy: informers.MCPRemoteProxy.store,
      MCPServerEntry: informers.MCPServerEntry.store,
    };
    // Workloads: enqueued when in our group, or when a workload of our group has the same name
    // (its decision reports the other group's). The controller maps the old and the new object of
    // an update, so a workload moving out of the group is still enqueued (and removed).
    for (const kind of WORKLOAD_KINDS) {
      controller.watches(
        informers[kind],
        workloadToRequests(kind, this.group, this.namespace, stores),
      );
    }
    // Auth configs: every workload of our group that references the changed config.
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
    const names = this.#namesOfGroup(informers);
    for (const backend of this.registry.list()) names.add(backend.id);
    for (const name of names) controller.enqueue({ namespace: this.namespace, name });
  }

  /** The names of the group's workloads in the caches. */
  #namesOfGroup(informers: Informers): Set<string> {
    const names = new Set<string>();
    for (const kind of WORKLOAD_KINDS) {
      const inGroup = workloadToRequests(kind, this.group, this.namespace);
      for (const workload of informers[kind].store.list()) {
        if (inGroup(workload).length > 0) names.add(workload.metadata.name as string);
      }
    }
    return names;
  }

  /**
   * Re-reads the Secrets the reconciler's names depend on every secret refresh period (metadata
   * only: a Secret's data is read by reconciles alone), and re-reconciles the names a changed one
   * affects. Returns the function that stops it.
   */
  #startSecretRefresh(
    client: KubeClient,
    reconciler: BackendReconciler,
    controller: Controller,
    signal: AbortSignal,
  ): () => void {
    const { readTimeoutMs, workers, clock, secretRefreshPeriodMs } = this.#settings;
    const secrets = new ResourceClient(client, RESOURCES.Secret, this.namespace, {
      getTimeoutMs: readTimeoutMs,
      metadataOnly: true,
    });
    return startSecretRefresh({
      periodMs: secretRefreshPeriodMs,
      dependencies: reconciler.secretDependencies,
      read: async (name, roundSignal) => {
        try {
          const secret = await secrets.get(name, AbortSignal.any([signal, roundSignal]));
          return secret.metadata.resourceVersion ?? '';
        } catch (error) {
          if (isNotFound(error)) return null;
          throw error;
        }
      },
      enqueue: (name) => controller.enqueue({ namespace: this.namespace, name }),
      concurrency: workers,
      clock,
      random: this.#options.random,
      logger: childLogger(this.#logger, { component: 'secret-refresh' }),
      observe: (result) => this.#metrics?.secretRefreshReads.inc({ result }),
    });
  }

  /**
   * Once the caches synced, hands the names of the initial lists to the readiness tracker (the
   * group's workloads, and the names of a registry handed in with content, which are reconciled
   * too so that it converges before it is ready), and starts the readiness bound. Returns the
   * function that stops it.
   */
  #followInitialSync(
    informers: Informers,
    controller: Controller,
    signal: AbortSignal,
  ): () => void {
    let stopped = false;
    const all = Object.values(informers);
    void Promise.all(all.map((informer) => informer.waitForSync(signal))).then((synced) => {
      if (stopped || signal.aborted || synced.includes(false)) return;
      const names = this.#namesOfGroup(informers);
      for (const backend of this.registry.list()) {
        if (names.has(backend.id)) continue;
        names.add(backend.id);
        controller.enqueue({ namespace: this.namespace, name: backend.id });
      }
      this.#initialSync.listed(names);
      if (this.#initialSync.ready) return;
      const boundMs = this.#settings.initialSyncTimeoutMs;
      this.#cancelInitialSyncBound = this.#settings.clock.setTimer(boundMs, () => {
        this.#initialSync.expired();
        const pending = this.#initialSync.pending();
        if (pending.length === 0) return;
        this.#logger.warn(
          { pending: pending.slice(0, 20), count: pending.length, initialSyncTimeoutMs: boundMs },
          'ready without every initial name: their reads still fail; they are served once a read succeeds',
        );
      });
    });
    return () => {
      stopped = true;
      this.#cancelInitialSyncBound();
    };
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
   * True once the caches synced and the registry reflects them: every name of the initial lists
   * has been decided once (resolved to a backend, or found to be none), including names whose
   * first reads failed for a transient reason, or `initialSyncTimeoutMs` passed since the caches
   * synced (then {@link pendingInitialNames} lists the names still undecided). Stays true
   * afterwards. Cache sync alone (upstream's gate) can leave the registry empty for a moment, or
   * without a backend whose Secret read failed once at start; a readiness gate built on this never
   * serves that moment.
   */
  hasSynced(): boolean {
    if (this.#registrySynced) return true;
    this.#registrySynced = this.#running && this.manager.hasSynced() && this.#initialSync.ready;
    return this.#registrySynced;
  }

  /**
   * The names of the initial lists not decided yet (their reads fail for a transient reason, or
   * their first reconcile has not run), sorted; empty once every one was decided, and before the
   * caches synced. After `initialSyncTimeoutMs` the watcher is ready with these still listed.
   */
  pendingInitialNames(): string[] {
    return this.#initialSync.pending();
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
   *
   * `fresh` (the default) decides anew, reading Secrets and CA ConfigMaps from the API server
   * (each at most once, each bounded by `readTimeoutMs`, all abandoned when `signal` aborts).
   * `fresh: false` reads nothing: it answers with the last decision a reconcile made for the
   * name (`decidedAt` says when) and the backend the registry serves for it, or, for a name
   * not decided yet, decides from the caches alone (a Secret or CA it would need is then
   * reported as not read).
   */
  async explain(
    name: string,
    options: { fresh?: boolean; signal?: AbortSignal } = {},
  ): Promise<Awaited<ReturnType<BackendReconciler['explain']>> & { decidedAt?: number }> {
    const reconciler = this.#reconciler;
    const readers = this.#explainReaders;
    if (reconciler === undefined || readers === undefined) {
      throw new Error('explain needs a started watcher');
    }
    options.signal?.throwIfAborted();
    const explanation =
      options.fresh === false
        ? (this.#heldExplanation(reconciler, name) ??
          (await reconciler.explain(name, { reader: readers.held })))
        : await reconciler.explain(name, {
            reader: readers.fresh(options.signal ?? new AbortController().signal),
          });
    const outcome = explanation.outcome;
    return outcome?.kind === 'backend'
      ? { ...explanation, outcome: { kind: 'backend', backend: redactBackend(outcome.backend) } }
      : explanation;
  }

  /** The name's last decision with the backend served for it, if a reconcile decided it. */
  #heldExplanation(reconciler: BackendReconciler, name: string) {
    const last = reconciler.lastDecision(name);
    if (last === undefined) return undefined;
    const failing = reconciler.failingRead(name);
    const served = last.decision.action === 'upsert' ? this.registry.get(name) : undefined;
    return {
      decision: last.decision,
      decidedAt: last.decidedAt,
      ...(served ? { outcome: { kind: 'backend' as const, backend: served } } : {}),
      ...(failing ? { failing } : {}),
    };
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
    const initial = !this.#initialSync.ready;
    if ('shadowed' in decision) {
      for (const kind of decision.shadowed) this.#metrics?.shadowed.inc({ kind });
    }
    if (decision.action === 'remove' && decision.reason === 'skipped')
      this.#metrics?.skipped.inc({ reason: decision.outcome.reason });
    if (decision.action === 'upsert' && decision.changed) this.#logUpsert(name, decision, initial);
    // Decisions count until every initial name was decided, past the bound too (pending names).
    if (decision.action !== 'keep-and-retry' && this.#initialSync.decided(name)) {
      this.#cancelInitialSyncBound();
      this.#logger.info(
        { upserted: this.#initialUpserts, backends: this.registry.count() },
        'initial backends upserted: every name of the initial lists decided',
      );
    }
  }

  /**
   * One line per backend upserted, at info once the registry first synced. Before, while the
   * initial lists are reconciled (thousands of names at once in a large namespace), at debug:
   * the line that ends the initial sync gives their count.
   */
  #logUpsert(name: string, decision: Decision & { kind: string }, initial: boolean): void {
    const fields = { backend: name, kind: decision.kind, version: this.registry.version };
    if (!initial) this.#logger.info(fields, 'backend upserted');
    else {
      this.#initialUpserts++;
      this.#logger.debug(fields, 'backend upserted');
    }
  }
}

/** The watcher's settings, with their defaults, checked once at construction. */
interface Settings {
  resyncPeriodMs: number;
  readTimeoutMs: number;
  workers: number;
  secretRefreshPeriodMs: number;
  initialSyncTimeoutMs: number;
  gracefulShutdownTimeoutMs: number;
  clock: Clock;
}

/**
 * The settings of a watcher: every duration checked against {@link DURATION_RANGES} (a
 * `RangeError` naming the one out of range), the watch options against the runtime's ranges.
 */
function settingsOf(options: BackendWatcherOptions): Settings {
  if (options.watcher !== undefined) checkWatcherOptions(options.watcher);
  const duration = (
    option: Exclude<keyof typeof DURATION_RANGES, 'syncTimeoutMs'>,
    fallback: number,
  ): number => checkDuration(option, options[option], DURATION_RANGES[option], fallback);
  return {
    resyncPeriodMs: duration('resyncPeriodMs', DEFAULT_RESYNC_PERIOD_MS),
    readTimeoutMs: duration('readTimeoutMs', DEFAULT_READ_TIMEOUT_MS),
    workers: checkCount('workers', options.workers, WORKERS_RANGE, DEFAULT_WORKERS),
    secretRefreshPeriodMs: duration('secretRefreshPeriodMs', DEFAULT_SECRET_REFRESH_PERIOD_MS),
    initialSyncTimeoutMs: duration('initialSyncTimeoutMs', DEFAULT_INITIAL_SYNC_TIMEOUT_MS),
    gracefulShutdownTimeoutMs: duration('gracefulShutdownTimeoutMs', 30_000),
    clock: options.clock ?? systemClock,
  };
}

/**
 * A read that a held explain does not make: a transient failure (so the decision is "cannot be
 * resolved now", never a removal) that says why.
 */
function notRead(kind: string): () => Promise<never> {
  return async () => {
    throw Object.assign(
      new Error(
        `${kind} not read: an explain without the API token reads nothing from the cluster`,
      ),
      { name: 'NotReadError', code: 'NOT_READ', transient: true },
    );
  };
}
