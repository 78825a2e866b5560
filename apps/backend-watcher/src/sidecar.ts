import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger, WatcherOptions } from '@vmcp/kube-runtime';
import { checkDuration, silentLogger } from '@vmcp/kube-runtime';
import { BackendWatcher } from '@vmcp/reconciler';
import { createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import { Registry } from 'prom-client';
import { DEFAULT_GRACE_PERIOD_MS, FLAG_RANGES, parseListen } from './config.js';
import { explainWithWatcher } from './explain.js';
import { createApiServer } from './http.js';

/** Options of {@link startSidecar}. */
export interface SidecarOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** `name` or `namespace/name` (the namespace must be the watched one). */
  groupRef: string;
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
  /** Time in-flight reconciles get at shutdown: 0 (abort them at once) to 1 h. Default 10 s. */
  gracePeriodMs?: number;
  /** How often event streams carry a heartbeat event: 100 ms to 5 min. Default 15 s. */
  heartbeatMs?: number;
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
  const gracePeriodMs = checkDuration(
    'gracePeriodMs',
    options.gracePeriodMs,
    FLAG_RANGES['grace-period'],
    DEFAULT_GRACE_PERIOD_MS,
  );
  if (options.heartbeatMs !== undefined)
    checkDuration('heartbeatMs', options.heartbeatMs, FLAG_RANGES['heartbeat-interval']);
  const logger = options.logger ?? silentLogger;
  const registry =
    options.registry ?? createDynamicRegistry([], { initialVersion: restartSafeVersion() });
  // The watcher, its runtime and the HTTP API share one metrics registry, served on /metrics.
  const metricsRegistry = new Registry();
  const watcher = new BackendWatcher({
    kubeConfig: options.kubeConfig,
    namespace: options.namespace,
    groupRef: options.groupRef,
    registry,
    logger,
    metricsRegistry,
    gracefulShutdownTimeoutMs: gracePeriodMs,
    ...(options.resyncPeriodMs !== undefined ? { resyncPeriodMs: options.resyncPeriodMs } : {}),
    ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.watcher ? { watcher: options.watcher } : {}),
  });
  const api = createApiServer({
    registry,
    apiToken: options.apiToken,
    alive: () => watcher.isAlive(),
    ready: () => watcher.hasSynced(),
    explain: (name) => explainWithWatcher(watcher, name),
    metricsRegistry,
    logger: logger.child({ component: 'http' }),
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
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
  done.catch((error: unknown) =>
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'watcher died'),
  );
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info('shutting down');
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
  return { url, registry, watcher, done, close, [Symbol.asyncDispose]: close };
}
