/**
 * The gateway, assembled: a registry source, the supervisor of backend connections, the catalog
 * derived from them with `memoByVersion`, the MCP endpoint at `/mcp` and `GET /status`, on one
 * HTTP server. `startGateway` is what the command line runs; a program can run it too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CallToolResult, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { type Clock, checkDuration, type DurationRange, systemClock } from '@vmcp/kube-runtime';
import { memoByVersion } from '@vmcp/registry';
import { type BackendConnection, BackendUnavailableError } from './backend-connection.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff.js';
import { buildCatalog, type Catalog, type Route } from './catalog.js';
import type { ListenAddress } from './flags.js';
import { type Logger, silentLogger } from './log.js';
import type { RegistrySource } from './registry-source.js';
import { RoutingServer } from './routing-server.js';
import { describeFailure, scrubSecrets } from './secrets.js';
import { type GatewayStatus, gatewayStatus } from './status.js';
import { BackendSupervisor } from './supervisor.js';
import { type OpenTransport, openHttpTransport } from './transport.js';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  readonly source: RegistrySource;
  /** Where to listen; port 0 picks a free port (see `Gateway.url`). */
  readonly listen: ListenAddress;
  /** Where `TOOLHIVE_SECRET_*` values of `headerForward` are read. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Retry timers and health checks. Default the system clock. */
  readonly clock?: Clock;
  /** The retry jitter's random source. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Retry delays of a failing backend. Default 500 ms doubling to 30 s, ±20 %; `initialMs` 1 ms
   * to 1 min, `maxMs` from `initialMs` to 1 h.
   */
  readonly retry?: Partial<RetryPolicy>;
  /** How often a connected backend is pinged: 100 ms to 1 h. Default 15 s. */
  readonly healthCheckIntervalMs?: number;
  /** Bound of connecting to a backend, of a ping and of a `tools/list`: 100 ms to 10 min. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Sessions held at once. Default 1000. */
  readonly maxSessions?: number;
  /** How a backend's transport is opened. Default HTTP (tests pass in-memory ones). */
  readonly openTransport?: OpenTransport;
}

/** A running gateway. */
export interface Gateway extends AsyncDisposable {
  /** `http://HOST:PORT`; the MCP endpoint is `${url}/mcp`, the status `${url}/status`. */
  readonly url: string;
  readonly supervisor: BackendSupervisor;
  /** The catalog now (computed if the supervisor's version moved since the last read). */
  catalog(): Promise<Catalog>;
  status(): Promise<GatewayStatus>;
  /** Closes sessions, backend clients, the registry source and the server. Idempotent. */
  close(): Promise<void>;
}

/** The ranges of the gateway's durations (the workspace's rule: a `RangeError` outside them). */
export const GATEWAY_DURATION_RANGES = Object.freeze({
  healthCheckIntervalMs: { min: 100, max: 3_600_000 },
  requestTimeoutMs: { min: 100, max: 600_000 },
  retryInitialMs: { min: 1, max: 60_000 },
  retryMaxMs: { min: 1, max: 3_600_000 },
} satisfies Record<string, DurationRange>);

/** The retry policy asked for, with its delays checked against their ranges. */
function retryPolicyOf(retry: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...retry };
  const { retryInitialMs, retryMaxMs } = GATEWAY_DURATION_RANGES;
  const initialMs = checkDuration('retry.initialMs', policy.initialMs, retryInitialMs);
  const maxMs = checkDuration('retry.maxMs', policy.maxMs, { ...retryMaxMs, min: initialMs });
  return { ...policy, initialMs, maxMs };
}

/** Starts the gateway; resolves once it listens. Backends connect as the registry syncs. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { source } = options;
  const logger = options.logger ?? silentLogger;
  const ranges = GATEWAY_DURATION_RANGES;
  const supervisor = new BackendSupervisor(source.registry, {
    env: options.env ?? process.env,
    logger,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    retry: retryPolicyOf(options.retry),
    healthCheckIntervalMs: checkDuration(
      'healthCheckIntervalMs',
      options.healthCheckIntervalMs,
      ranges.healthCheckIntervalMs,
      15_000,
    ),
    requestTimeoutMs: checkDuration(
      'requestTimeoutMs',
      options.requestTimeoutMs,
      ranges.requestTimeoutMs,
      10_000,
    ),
    openTransport: options.openTransport ?? openHttpTransport,
  });
  // Derived data, recomputed on the first read after the supervisor's version moved.
  const catalog = memoByVersion(supervisor, () =>
    buildCatalog(supervisor.connections(), supervisor.registryVersion),
  );
  const routing = new RoutingServer({
    catalog,
    callTool: (route, args, signal) => callRoutedTool(supervisor, route, args, signal),
    logger,
    ...(options.maxSessions === undefined ? {} : { maxSessions: options.maxSessions }),
  });
  const unsubscribe = supervisor.onChange(() => void routing.catalogMayHaveChanged());

  const stop = new AbortController();
  let followError: string | undefined;
  const following = followRegistry(source, supervisor, stop.signal).catch((error: unknown) => {
    followError = error instanceof Error ? error.message : String(error);
    logger.error({ error: followError }, 'following the registry failed; serving the last catalog');
  });
  const status = async (): Promise<GatewayStatus> => {
    const { synced, error } = source.health();
    return gatewayStatus({
      registry: {
        source: source.kind,
        synced,
        version: synced ? source.registry.version : null,
        ...((error ?? followError) ? { error: error ?? followError } : {}),
      },
      catalog: await catalog(),
      connections: supervisor.connections(),
      sessions: routing.sessionCount,
    });
  };
  const server = createServer((req, res) => {
    route(req, res, options.listen, routing, status).catch((error: unknown) => {
      logger.error({ error: String(error) }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  const url = await listen(server, options.listen);
  logger.info({ url, mcp: `${url}/mcp`, status: `${url}/status` }, 'serving');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stop.abort();
      unsubscribe();
      server.close();
      server.closeAllConnections();
      await routing.close();
      await supervisor.close();
      await source.close();
      await following;
    })();
    return closing;
  };
  return { url, supervisor, catalog, status, close, [Symbol.asyncDispose]: close };
}

/** Waits for the registry's first complete content, then keeps the connections in step. */
async function followRegistry(
  source: RegistrySource,
  supervisor: BackendSupervisor,
  signal: AbortSignal,
): Promise<void> {
  if (await source.waitForSync(signal)) await supervisor.run(signal);
}

/** Calls a routed tool on its backend; every error that leaves is free of its secrets. */
async function callRoutedTool(
  supervisor: BackendSupervisor,
  route: Route,
  args: Record<string, unknown> | undefined,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const connection = supervisor.get(route.backendId);
  if (connection === undefined) {
    throw new McpError(ErrorCode.InternalError, `backend ${route.backendId} is gone`);
  }
  try {
    return await connection.callTool(route.toolName, args, signal);
  } catch (error) {
    throw backendError(error, connection);
  }
}

/** A backend's error as the gateway's client sees it: its code kept, its text scrubbed. */
function backendError(error: unknown, connection: BackendConnection): McpError {
  if (error instanceof McpError) {
    const message = error.message.replace(/^MCP error -?\d+: /, '');
    return new McpError(error.code, scrubSecrets(message, connection.secrets));
  }
  if (error instanceof BackendUnavailableError) {
    return new McpError(ErrorCode.InternalError, error.message);
  }
  const reason = describeFailure(error, connection.secrets);
  return new McpError(ErrorCode.InternalError, `backend ${connection.id} failed: ${reason}`);
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  listenAddress: ListenAddress,
  routing: RoutingServer,
  status: () => Promise<GatewayStatus>,
): Promise<void> {
  if (!isAllowedHost(req.headers.host, listenAddress.host)) {
    return sendJson(res, 403, { error: 'this Host is not served (DNS rebinding protection)' });
  }
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/mcp') return routing.handle(req, res);
  if (path !== '/status') return sendJson(res, 404, { error: 'not found: try /mcp or /status' });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendJson(res, 405, { error: 'method not allowed' });
  }
  sendJson(res, 200, await status());
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * On a loopback address, only requests naming a loopback host are served: a web page cannot
 * reach the gateway through a DNS name it controls (DNS rebinding). Elsewhere, any Host.
 */
export function isAllowedHost(hostHeader: string | undefined, listenHost: string): boolean {
  if (!LOOPBACK_HOSTS.has(listenHost)) return true;
  if (hostHeader === undefined) return false;
  const host = hostHeader.startsWith('[')
    ? hostHeader.slice(0, hostHeader.indexOf(']') + 1)
    : (hostHeader.split(':')[0] ?? '');
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function listen(server: Server, address: ListenAddress): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address: host, port } = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
