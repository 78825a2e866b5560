import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '@vmcp/kube-runtime';
import type { DynamicRegistry } from '@vmcp/registry';
import type { Registry } from 'prom-client';
import { TokenCheck } from './auth.js';
import { BodyCache } from './http/body-cache.js';
import { LongLived } from './http/long-lived.js';
import { HttpMetrics } from './http/metrics.js';
import { HttpError, Request } from './http/request.js';
import { dispatch, type Route } from './http/router.js';
import { backendRoutes } from './http/routes/backends.js';
import { eventsRoute } from './http/routes/events.js';
import { explainRoute } from './http/routes/explain.js';
import { healthRoutes } from './http/routes/health.js';
import { httpDate } from './time.js';

export { acceptsGzip } from './http/request.js';

// The sidecar's HTTP API, put together: the route table (http/routes/), each request parsed and
// answered through http/request.ts, bodies from the shared cache (http/body-cache.ts), metrics
// (http/metrics.ts), and the long-lived answers that shutdown ends (http/long-lived.ts).

/** How often an event stream carries a heartbeat, unless told otherwise: 15 s. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Options of {@link createApiServer}. */
export interface ApiServerOptions {
  registry: DynamicRegistry;
  /** Bearer token that unlocks secret values; without one, secrets are never served. */
  apiToken?: string | undefined;
  /** True while the process and its watch loops are alive. */
  alive(): boolean;
  /** True once the caches synced. */
  ready(): boolean;
  /**
   * Why a name is or is not served, from the running watcher (its kept-stale state included),
   * as `GET /v1/explain/{name}` answers it. Without it the route is 404.
   */
  explain?: (name: string, signal: AbortSignal) => Promise<unknown>;
  /** Metrics served at /metrics; the server adds its own and the registry's to it. */
  metricsRegistry: Registry;
  logger: Logger;
  /** Longest long-poll a client may ask for. Default 300 s. */
  maxTimeoutSeconds?: number;
  /**
   * How often an event stream carries a `heartbeat` event (also sent first on every stream), so
   * that clients, EventSource ones included, can tell a stalled stream from a quiet one.
   * Default 15 s.
   */
  heartbeatMs?: number;
  /**
   * An event stream whose client has not read what was written for this long is dropped (it can
   * resume with Last-Event-ID). Default 30 s.
   */
  slowClientTimeoutMs?: number;
}

/** The HTTP API: a node:http server plus a way to end long-lived requests at shutdown. */
export interface ApiServer {
  server: Server;
  /** Ends every long-poll and event stream; new requests get 503. */
  drain(): void;
}

/**
 * The sidecar's HTTP API. Every body is serialised once per registry version and view
 * (redacted or with secrets), gzip-compressed at most once, and shared by every client;
 * long-polls and event streams cost one wake-up and one write per client per change, and a slow
 * client is never waited for.
 */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const metrics = new HttpMetrics(options.metricsRegistry, options.registry);
  const longLived = new LongLived(metrics.streams);
  let draining = false;
  const routes = routeTable(options, longLived, () => draining);
  const tokens = new TokenCheck(options.apiToken);
  const server = createServer(
    { requestTimeout: 30_000, headersTimeout: 20_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      // Node would write the same Date header with a Date object (see time.ts).
      res.setHeader('date', httpDate(Date.now()));
      const request = new Request(req, res, tokens);
      answer(routes, request, draining)
        .then(
          (route) => metrics.served(route, res.statusCode),
          (error: unknown) => metrics.served('error', answerError(request, error, options.logger)),
        )
        .catch(() => undefined);
    },
  );
  server.on('clientError', answerClientError);
  return {
    server,
    drain() {
      draining = true;
      longLived.abortAll();
    },
  };
}

/** Every route, in the order they are matched. */
function routeTable(
  options: ApiServerOptions,
  longLived: LongLived,
  draining: () => boolean,
): Route[] {
  const { registry, logger } = options;
  const bodies = new BodyCache();
  return [
    ...healthRoutes({ ...options, draining }),
    ...backendRoutes({
      registry,
      bodies,
      longLived,
      maxTimeoutSeconds: options.maxTimeoutSeconds ?? 300,
    }),
    ...(options.explain ? [explainRoute(options.explain)] : []),
    eventsRoute({
      registry,
      bodies,
      longLived,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      slowClientTimeoutMs: options.slowClientTimeoutMs ?? 30_000,
      logger,
      ready: () => options.ready(),
    }),
  ];
}

/** {@link dispatch}, with a route's synchronous failure as a rejection like any other. */
async function answer(routes: readonly Route[], request: Request, draining: boolean) {
  return dispatch(routes, request, draining);
}

/** Answers a failed request with a JSON error (500 for anything unexpected); returns the status. */
function answerError(request: Request, error: unknown, logger: Logger): number {
  const { res } = request;
  const status = error instanceof HttpError ? error.status : 500;
  const message = error instanceof HttpError ? error.message : 'internal error';
  if (!(error instanceof HttpError)) {
    logger.error({ err: messageOf(error), path: request.path }, 'request failed');
  }
  if (!res.headersSent && !res.destroyed) {
    request.json(status, { error: { status, message } }, (error as HttpError).headers);
  } else res.destroy();
  return status;
}

/** Oversized headers (431), malformed requests (400): answered if the socket can still take it. */
function answerClientError(error: Error, socket: Socket): void {
  const code = (error as { code?: string }).code;
  const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  if (socket.writable) {
    const body = JSON.stringify({ error: { status, message: 'malformed request' } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  } else socket.destroy();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
