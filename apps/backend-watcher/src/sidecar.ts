import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger, WatcherOptions } from '@vmcp/kube-runtime';
import { checkDuration, childLogger, loadPromClient, silentLogger } from '@vmcp/kube-runtime';
import { BackendWatcher } from '@vmcp/reconciler';
import { createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import type { Registry } from 'prom-client';
import { DEFAULT_GRACE_PERIOD_MS, FLAG_RANGES, parseListen } from './config.js';
import { ConfigReloader, type ConfigStatus } from './config-reload.js';
import { explainWithWatcher } from './explain.js';
import { createApiServer } from './http.js';
import type { VmcpConfig } from './vmcp-config.js';

/** Options of {@link startSidecar}. */
export interface SidecarOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /**
   * `name` or `namespace/name` (the namespace must be the watched one). Default: the `groupRef`
   * of `vmcpConfig` (one of the two is required).
   */
  groupRef?: string;
  /**
   * The vMCP server's config file, read with `loadVmcpConfig`: its `outgoingAuth` is applied to
   * every backend, and the file is read again whenever it changes (its directory is watched, so a
   * mounted ConfigMap's swap is seen). A change that does not read well keeps the last good config
   * and sets `vmcp_config_valid` to 0 and `/readyz`'s `config.valid` to false; nothing served is
   * dropped for it.
   */
  vmcpConfig?: VmcpConfig;
  /**
   * How long after a change of the config file's directory the file is read again (a ConfigMap
   * swap is a burst of changes): from 0 to 60000 ms, default 1000.
   */
  configReloadDebounceMs?: number;
  /** `HOST:PORT`; default `127.0.0.1:8080`. Port 0 picks a free port. */
  listen?: string;
  /** Bearer token that unlocks secret values in responses. */
  apiToken?: string;
  /** pino or any logger with its methods. Default: silent. */
  logger?: Logger;
  /**
   * Re-reconcile every backend about this often (picks up rotated Secrets). Default 10 h, as
   * upstream; 0 turns it off; else 100 ms to 720 h.
   */
  resyncPeriodMs?: number;
  /** Bound of each read a reconcile makes: 1 ms to 10 min. Default 5 s. */
  readTimeoutMs?: number;
  /** Reconciles at once. Default 4. */
  workers?: number;
  /**
   * Re-read each Secret a backend uses this often (metadata only); a changed one re-reconciles
   * the backends that use it. Default 60 s; 0 turns it off; otherwise 1 s to 720 h.
   */
  secretRefreshPeriodMs?: number;
  /**
   * How long `/readyz` waits, once the caches synced, for backends whose first reads fail
   * before it turns ready anyway, naming them. Default 30 s; 1 s to 1 h.
   */
  initialSyncTimeoutMs?: number;
  /** Time in-flight reconciles get at shutdown: 0 (abort them at once) to 1 h. Default 10 s. */
  gracePeriodMs?: number;
  /** How often event streams carry a heartbeat event: 100 ms to 5 min. Default 15 s. */
  heartbeatMs?: number;
  /**
   * Long-polls and event streams open at once, a whole number from 1 to 100,000; more get 503
   * with `Retry-After`. Default 1000.
   */
  maxStreams?: number;
  /** Watch options (stall timeout, backoff), mostly for tests. */
  watcher?: WatcherOptions;
  /** The registry to fill; default a new one starting at {@link restartSafeVersion}. */
  registry?: DynamicRegistry;
}

/** A running sidecar. */
export interface Sidecar extends AsyncDisposable {
  /** `http://HOST:PORT` of the API. */
  readonly url: string;
  readonly registry: DynamicRegistry;
  readonly watcher: BackendWatcher;
  /** Settles when the watcher stops: on {@link close}, or (rejecting) if it dies. */
  readonly done: Promise<void>;
  /** Whether the vMCP config file reads well now; undefined without one. */
  configStatus(): ConfigStatus | undefined;
  /** Stops accepting requests, ends streams, lets reconciles finish, then stops. Idempotent. */
  close(): Promise<void>;
}

/**
 * The version a new sidecar's registry starts at: its start time in microseconds. Clients keep
 * versions across a restart of the sidecar (a long-poll's `watch`, an ETag, an SSE
 * `Last-Event-ID`). Starting above every version an earlier process reached (it would have needed
 * a million changes per second to catch up with the clock) makes such a client get the whole
 * list or a fresh snapshot, never changes from a history that is not the one it holds, and never
 * a 304 for content it does not have.
 */
export function restartSafeVersion(now: number = Date.now()): number {
  return Math.floor(now) * 1000;
}

/** The listen address is taken or not allowed: the CLI prints it as one line. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/**
 * Starts a BackendWatcher for one namespace and group and serves its registry over HTTP. The
 * HTTP server listens first (so /healthz answers and /readyz says 503 while the caches sync);
 * resolves once it listens. A duration option out of its range rejects with a `RangeError`
 * naming it, before anything starts.
 */
export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  // Named as the sidecar's option (the watcher would name it gracefulShutdownTimeoutMs); the
  // others are checked under their own names by the watcher and the HTTP API, before either starts.
  checkDuration('gracePeriodMs', options.gracePeriodMs, FLAG_RANGES['grace-period'], 0);
  const logger = options.logger ?? silentLogger;
  const registry =
    options.registry ?? createDynamicRegistry([], { initialVersion: restartSafeVersion() });
  const groupRef = options.groupRef ?? options.vmcpConfig?.groupRef;
  if (groupRef === undefined) {
    throw new TypeError('startSidecar: groupRef is required (or a vmcpConfig with a groupRef)');
  }
  // The watcher, its runtime and the HTTP API share one metrics registry, served on /metrics.
  // prom-client's collector classes only (loadPromClient), not its cluster, push gateway or
  // default metrics: the same classes as an `import` of the package.
  const metricsRegistry = new (loadPromClient().Registry)();
  const watcher = watcherFor(options, { groupRef, registry, metricsRegistry, logger });
  const reloader =
    options.vmcpConfig === undefined
      ? undefined
      : configReloader(options.vmcpConfig, watcher, metricsRegistry, logger, options);
  const api = createApiServer({
    registry,
    apiToken: options.apiToken,
    alive: () => watcher.isAlive(),
    ready: () => watcher.hasSynced(),
    pending: () => watcher.pendingInitialNames(),
    ...(reloader ? { readyDetail: () => ({ config: configDetail(reloader.status()) }) } : {}),
    explain: (name, explainOptions) => explainWithWatcher(watcher, name, explainOptions),
    metricsRegistry,
    logger: childLogger(logger, { component: 'http' }),
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.maxStreams !== undefined ? { maxStreams: options.maxStreams } : {}),
  });
  const { host, port } = parseListen(options.listen ?? '127.0.0.1:8080');
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      reject(
        new ListenError(
          error.code === 'EADDRINUSE'
            ? `cannot listen on ${where}: the address is already in use`
            : error.code === 'EADDRNOTAVAIL'
              ? `cannot listen on ${where}: no such local address`
              : `cannot listen on ${where}: ${error.code ?? error.message}`,
        ),
      );
    };
    api.server.once('error', onError);
    api.server.listen({ host, port }, () => {
      api.server.off('error', onError);
      resolve();
    });
  });
  const address = api.server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url, namespace: options.namespace, group: watcher.group }, 'serving');

  const stop = new AbortController();
  const done = watcher.start(stop.signal);
  reloader?.start();
  done.catch((error: unknown) =>
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'watcher died'),
  );
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info('shutting down');
      reloader?.stop();
      api.drain();
      const closed = new Promise<void>((resolve) => api.server.close(() => resolve()));
      api.server.closeIdleConnections();
      stop.abort();
      await done.catch(() => undefined);
      api.server.closeAllConnections();
      await closed;
      logger.info('stopped');
    })();
    return closing;
  };
  return {
    url,
    registry,
    watcher,
    done,
    configStatus: () => reloader?.status(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The sidecar's watcher: the options that concern it, with the group and registries resolved. */
function watcherFor(
  options: SidecarOptions,
  resolved: {
    groupRef: string;
    registry: DynamicRegistry;
    metricsRegistry: Registry;
    logger: Logger;
  },
): BackendWatcher {
  return new BackendWatcher({
    kubeConfig: options.kubeConfig,
    namespace: options.namespace,
    ...resolved,
    gracefulShutdownTimeoutMs: options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
    ...(options.resyncPeriodMs !== undefined ? { resyncPeriodMs: options.resyncPeriodMs } : {}),
    ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.secretRefreshPeriodMs !== undefined
      ? { secretRefreshPeriodMs: options.secretRefreshPeriodMs }
      : {}),
    ...(options.initialSyncTimeoutMs !== undefined
      ? { initialSyncTimeoutMs: options.initialSyncTimeoutMs }
      : {}),
    ...(options.watcher ? { watcher: options.watcher } : {}),
    ...(options.vmcpConfig?.outgoingAuth ? { outgoingAuth: options.vmcpConfig.outgoingAuth } : {}),
  });
}

/**
 * Re-reads the vMCP config file on change and hands a good one to the watcher; `vmcp_config_valid`
 * says whether the last read was good.
 */
function configReloader(
  config: VmcpConfig,
  watcher: BackendWatcher,
  metricsRegistry: Registry,
  logger: Logger,
  options: SidecarOptions,
): ConfigReloader {
  logConfig(config, logger);
  const reloader = new ConfigReloader({
    initial: config,
    apply: (next) => {
      if (next.groupRef !== undefined && next.groupRef !== config.groupRef) {
        logger.warn(
          { path: next.path, groupRef: next.groupRef, group: watcher.group },
          'groupRef of the vMCP config changed; the watched group changes only with a restart',
        );
      }
      watcher.setOutgoingAuth(next.outgoingAuth);
    },
    logger,
    ...(options.configReloadDebounceMs !== undefined
      ? { debounceMs: options.configReloadDebounceMs }
      : {}),
  });
  new (loadPromClient().Gauge)({
    name: 'vmcp_config_valid',
    help: 'Whether the vMCP config file (--config) read well at its last change: 1, or 0 while the last good one stays in force',
    registers: [metricsRegistry],
    collect() {
      this.set(reloader.status().valid ? 1 : 0);
    },
  });
  return reloader;
}

/** One line on what the config gives: the source and strategy types, never a value. */
function logConfig(config: VmcpConfig, logger: Logger): void {
  const outgoingAuth = config.outgoingAuth;
  logger.info(
    { path: config.path, groupRef: config.groupRef, outgoingAuth: outgoingAuth?.summary() ?? null },
    'vMCP config read',
  );
  if (outgoingAuth !== undefined && !outgoingAuth.sourceGiven) {
    logger.warn(
      { path: config.path },
      'outgoingAuth.source is not set: inline, as upstream, so discovered auth is ignored',
    );
  }
}

/** `/readyz`'s `config`: the status, with `invalidSince` as an ISO time. */
function configDetail(status: ConfigStatus): Record<string, unknown> {
  return {
    ...status,
    ...(status.invalidSince === undefined
      ? {}
      : { invalidSince: new Date(status.invalidSince).toISOString() }),
  };
}
