import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type Clock,
  checkCount,
  checkDuration,
  type DurationRange,
  type Logger,
  systemClock,
} from '@vmcp/kube-runtime';
import type { DynamicRegistry } from '@vmcp/registry';
import type { Registry } from 'prom-client';
import { TokenCheck } from './auth.js';
import { BodyCache } from './http/body-cache.js';
import { HttpError } from './http/http-error.js';
import { LastResort } from './http/last-resort.js';
import { LongLived } from './http/long-lived.js';
import { MalformedRequests } from './http/malformed.js';
import { HttpMetrics } from './http/metrics.js';
import { Request } from './http/request.js';
import { MAX_HEADER_BYTES } from './http/request-target.js';
import { dispatch, type Route } from './http/router.js';
import { backendRoutes } from './http/routes/backends.js';
import { eventsRoute } from './http/routes/events.js';
import { type Explain, explainRoute } from './http/routes/explain.js';
import { healthRoutes } from './http/routes/health.js';
import { httpDate } from './time.js';

export { acceptsGzip } from './http/request.js';
export type { Explain, ExplainOptions } from './http/routes/explain.js';

// The sidecar's HTTP API, put together: the route table (http/routes/), each request parsed and
// answered through http/request.ts, bodies from the shared cache (http/body-cache.ts), metrics
// (http/metrics.ts), the long-lived answers that shutdown ends and --max-streams caps
// (http/long-lived.ts), what the parser refuses (http/malformed.ts) and the last line of defence
// (http/last-resort.ts).

/** How often an event stream carries a heartbeat, unless told otherwise: 15 s. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/**
 * `heartbeatMs` (and `--heartbeat-interval`): 100 ms (below it heartbeats are most of what a
 * stream carries) to 5 min (proxies drop a connection idle for a few minutes, and clients find a
 * stalled stream by it).
 */
export const HEARTBEAT_RANGE: DurationRange = { min: 100, max: 300_000 };

/** `slowClientTimeoutMs`: 1 ms to 10 min (a stream holding its backlog longer is stuck). */
const SLOW_CLIENT_RANGE: DurationRange = { min: 1, max: 600_000 };

/** Long-polls and event streams open at once, unless told otherwise. */
export const DEFAULT_MAX_STREAMS = 1000;

/** The most `--max-streams` may be: far above what one sidecar's clients need. */
export const MAX_STREAMS_LIMIT = 100_000;

/**
 * The server's own limits, set deliberately rather than left to Node's defaults:
 * - `headersTimeoutMs`: a request's line and header fields must arrive within 10 s of its first
 *   byte (a connection that sends nothing at all is closed after as long): a client trickling
 *   headers (slowloris) holds a socket that long, no longer; then 408;
 * - `requestTimeoutMs`: a whole request, a body included, within 15 s; then 408. Answers take
 *   as long as they take: a long-poll or an event stream is not bounded by it;
 * - `keepAliveTimeoutMs`: an idle kept-alive connection is closed after 5 s;
 * - `checkIntervalMs`: how often Node checks the two timeouts (its default, 30 s, would let a
 *   slow client overstay them by up to that much);
 * - `maxHeaderBytes`: request line and header fields together (Node's default, 16 KiB); beyond,
 *   431 (414 when the request line alone overflows).
 */
export const SERVER_LIMITS = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxHeaderBytes: MAX_HEADER_BYTES,
});

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
   * The names of the initial lists not decided yet (their reads fail for now), which `/readyz`
   * lists: while it is not ready, and once it turned ready at its bound without them.
   */
  pending?: () => readonly string[];
  /**
   * More to say in `/readyz`'s body, whatever the status: the sidecar reports its vMCP config
   * there (`config: { path, valid, error?, invalidSince? }`). Never a secret value.
   */
  readyDetail?: (() => Record<string, unknown>) | undefined;
  /**
   * Why a name is or is not served, from the running watcher, as `GET /v1/explain/{name}`
   * answers it: `fresh` (reads against the API server allowed) only for a request carrying the
   * API token; every fresh explain of one name in flight is shared, and at most
   * `maxFreshExplains` run at once (more get 503). Without it the route is 404.
   */
  explain?: Explain;
  /** Fresh explains (of different names) in flight at once, a whole number from 1 to 64. Default 2. */
  maxFreshExplains?: number;
  /** Metrics served at /metrics; the server adds its own and the registry's to it. */
  metricsRegistry: Registry;
  logger: Logger;
  /** Longest long-poll a client may ask for, a whole number of seconds from 1 to 3600. Default 300 s. */
  maxTimeoutSeconds?: number;
  /**
   * How often an event stream carries a `heartbeat` event (also sent first on every stream), so
   * that clients, EventSource ones included, can tell a stalled stream from a quiet one.
   * 100 ms to 5 min. Default 15 s.
   */
  heartbeatMs?: number;
  /**
   * An event stream whose client has not taken what was written for this long is dropped (it
   * can resume with Last-Event-ID), whether or not changes arrive. 1 ms to 10 min. Default 30 s.
   */
  slowClientTimeoutMs?: number;
  /**
   * Long-polls and event streams open at once, an integer from 1 to 100,000; more get 503 with
   * `Retry-After`. Default 1000.
   */
  maxStreams?: number;
  /** Timers of event streams (heartbeats, the slow-client drop). Default the system clock. */
  clock?: Clock;
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
 * client is never waited for. Nothing a client sends can end the process: a request is answered
 * (a JSON error for anything refused) or its connection closed, and an error nothing else
 * handled is logged and counted (`vmcp_http_request_errors_total`), costing that one request.
 */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const maxStreams = checkCount(
    'maxStreams',
    options.maxStreams,
    { min: 1, max: MAX_STREAMS_LIMIT },
    DEFAULT_MAX_STREAMS,
  );
  const maxFreshExplains = checkCount(
    'maxFreshExplains',
    options.maxFreshExplains,
    { min: 1, max: 64 },
    2,
  );
  // The durations, checked now (a RangeError naming the one out of range); used by the routes.
  checkCount('maxTimeoutSeconds', options.maxTimeoutSeconds, { min: 1, max: 3600 }, 300);
  checkDuration('heartbeatMs', options.heartbeatMs, HEARTBEAT_RANGE, DEFAULT_HEARTBEAT_MS);
  checkDuration('slowClientTimeoutMs', options.slowClientTimeoutMs, SLOW_CLIENT_RANGE, 30_000);
  const clock = options.clock ?? systemClock;
  const metrics = new HttpMetrics(options.metricsRegistry, options.registry, maxStreams);
  const lastResort = new LastResort(metrics.requestErrors, options.logger);
  const longLived = new LongLived({
    max: maxStreams,
    open: metrics.streams,
    refused: metrics.streamsRefused,
  });
  let draining = false;
  const routes = routeTable(
    { ...options, clock, maxFreshExplains },
    { longLived, lastResort, metrics },
    () => draining,
  );
  const tokens = new TokenCheck(options.apiToken);
  const malformed = new MalformedRequests({
    lastResort,
    clock,
    served: (route, status) => metrics.served(route, status),
  });
  const onRequest = (req: IncomingMessage, res: ServerResponse, refusal?: HttpError): void => {
    try {
      // Node would write the same Date header with a Date object (see time.ts).
      res.setHeader('date', httpDate(Date.now()));
      malformed.track(req, res);
      res.on('error', (error) => {
        lastResort.record('response', error);
        res.destroy();
      });
      const request = new Request(req, res, tokens);
      const answered = refusal
        ? Promise.reject(refusal)
        : answer(routes, request, draining).then((route) => metrics.served(route, res.statusCode));
      answered
        .catch((error: unknown) => metrics.served('error', answerError(request, error, lastResort)))
        .catch((error: unknown) => failed(res, error, lastResort));
    } catch (error) {
      failed(res, error, lastResort);
    }
  };
  const server = createServer(
    {
      headersTimeout: SERVER_LIMITS.headersTimeoutMs,
      requestTimeout: SERVER_LIMITS.requestTimeoutMs,
      keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
      connectionsCheckingInterval: SERVER_LIMITS.checkIntervalMs,
      maxHeaderSize: SERVER_LIMITS.maxHeaderBytes,
      // Checked by the router, so that the answer is a JSON error like any other 400.
      requireHostHeader: false,
    },
    (req, res) => onRequest(req, res),
  );
  server.on('clientError', malformed.clientError);
  server.on('connect', malformed.connect);
  server.on('checkExpectation', (req, res) =>
    onRequest(req, res, new HttpError(417, 'only "Expect: 100-continue" is understood')),
  );
  // Accept errors (EMFILE when file descriptors run out) while listening: counted, survived.
  // Listening errors (EADDRINUSE) stay the caller's, who has not seen 'listening' yet.
  let acceptErrorsHandled = false;
  server.on('listening', () => {
    if (acceptErrorsHandled) return;
    acceptErrorsHandled = true;
    server.on('error', (error) => lastResort.record('server', error));
  });
  return {
    server,
    drain() {
      draining = true;
      longLived.abortAll();
    },
  };
}

/** What the routes share beside the options. */
interface Shared {
  longLived: LongLived;
  lastResort: LastResort;
  metrics: HttpMetrics;
}

/** Every route, in the order they are matched. */
function routeTable(
  options: ApiServerOptions & { clock: Clock; maxFreshExplains: number },
  { longLived, lastResort, metrics }: Shared,
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
    ...(options.explain
      ? [explainRoute(options.explain, { maxFresh: options.maxFreshExplains })]
      : []),
    eventsRoute({
      registry,
      bodies,
      longLived,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      slowClientTimeoutMs: options.slowClientTimeoutMs ?? 30_000,
      clock: options.clock,
      logger,
      lastResort,
      slowClientDropped: () => metrics.slowStreamsDropped.inc(),
      ready: () => options.ready(),
    }),
  ];
}

/** {@link dispatch}, with a route's synchronous failure as a rejection like any other. */
async function answer(routes: readonly Route[], request: Request, draining: boolean) {
  return dispatch(routes, request, draining);
}

/** The status counted for a request whose client went away before its answer (nginx's). */
const CLIENT_CLOSED = 499;

/**
 * Answers a failed request with a JSON error; returns the status. Anything but an
 * {@link HttpError} is a bug: a 500, logged and counted; unless the client went away first
 * (the route's work was cancelled with it), which is no error at all.
 */
function answerError(request: Request, error: unknown, lastResort: LastResort): number {
  const { res } = request;
  if (request.closed.aborted && !res.writableEnded) {
    res.destroy();
    return CLIENT_CLOSED;
  }
  const expected = error instanceof HttpError;
  const status = expected ? error.status : 500;
  if (!expected) lastResort.record('route', error, { path: request.target });
  if (!res.headersSent && !res.destroyed) {
    const message = expected ? error.message : 'internal error';
    request.json(status, { error: { status, message } }, expected ? error.headers : {});
  } else res.destroy();
  return status;
}

/** The request could not even be answered with an error: recorded, its connection closed. */
function failed(res: ServerResponse, error: unknown, lastResort: LastResort): void {
  lastResort.record('route', error);
  try {
    res.destroy();
  } catch (destroyError) {
    lastResort.record('route', destroyError);
  }
}
