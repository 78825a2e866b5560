import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { Logger } from '@vmcp/kube-runtime';
import {
  type Backend,
  type DynamicRegistry,
  type RegistryChange,
  type RegistrySnapshot,
  redactBackend,
} from '@vmcp/registry';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Access, TokenCheck } from './auth.js';

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

const ID_PATTERN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const VERSION_PATTERN = /^(0|[1-9]\d{0,15})$/;
const DEFAULT_POLL_SECONDS = 30;
/** Tells a client whether secret values are in the answer (`secrets`) or `[REDACTED]`. */
const ACCESS_HEADER = 'vmcp-access';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The sidecar's HTTP API. Every body is serialised once per registry version and view
 * (redacted or with secrets), gzip-compressed at most once, and shared by every client;
 * long-polls and event streams cost one wake-up and one write per client per change, and a slow
 * client is never waited for.
 */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const { registry, logger } = options;
  const tokens = new TokenCheck(options.apiToken);
  const maxTimeout = options.maxTimeoutSeconds ?? 300;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const slowClientTimeoutMs = options.slowClientTimeoutMs ?? 30_000;
  const bodies = new BodyCache();
  const longLived = new Set<AbortController>();
  let draining = false;

  const registers = [options.metricsRegistry];
  const requests = new Counter({
    name: 'vmcp_http_requests_total',
    help: 'HTTP requests served, by route and status code',
    labelNames: ['route', 'code'],
    registers,
  });
  const streams = new Gauge({
    name: 'vmcp_http_open_streams',
    help: 'Open long-polls and event streams',
    labelNames: ['kind'],
    registers,
  });
  new Gauge({
    name: 'vmcp_registry_backends',
    help: 'Backends in the registry',
    registers,
    collect() {
      this.set(registry.count());
    },
  });
  new Gauge({
    name: 'vmcp_registry_version',
    help: 'The registry version (moves once per content change)',
    registers,
    collect() {
      this.set(registry.version);
    },
  });

  const track = <T>(kind: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    longLived.add(controller);
    streams.inc({ kind });
    return run(controller.signal).finally(() => {
      longLived.delete(controller);
      streams.dec({ kind });
    });
  };

  const routes: Record<string, (request: Request) => Promise<string> | string> = {
    healthz: (r) => {
      const ok = options.alive();
      r.json(ok ? 200 : 503, { status: ok ? 'ok' : 'watch loops stopped' });
      return 'healthz';
    },
    readyz: (r) => {
      const ok = options.ready() && !draining;
      r.json(ok ? 200 : 503, {
        status: ok ? 'ready' : draining ? 'shutting down' : 'registry not synced',
      });
      return 'readyz';
    },
    metrics: async (r) => {
      const text = await options.metricsRegistry.metrics();
      r.send(200, text, { 'content-type': options.metricsRegistry.contentType });
      return 'metrics';
    },
  };

  const handle = async (request: Request): Promise<string> => {
    const { path, query } = request;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new HttpError(405, `method ${request.method} is not allowed`, { allow: 'GET, HEAD' });
    }
    const simple = Object.hasOwn(routes, path.slice(1)) ? routes[path.slice(1)] : undefined;
    if (simple !== undefined && path.indexOf('/', 1) === -1) {
      onlyParams(query, []);
      return simple(request);
    }
    if (draining) throw new HttpError(503, 'shutting down');
    if (path === '/v1/backends') {
      onlyParams(query, ['watch', 'timeoutSeconds']);
      const access = request.access();
      const watch = query.get('watch');
      if (watch === null) {
        if (query.has('timeoutSeconds')) {
          throw new HttpError(400, 'timeoutSeconds is only allowed with watch');
        }
        request.snapshot(200, bodies.list(registry.snapshot(), access));
        return 'list';
      }
      const since = parseVersion(watch, 'watch');
      const timeoutSeconds = parseTimeout(query.get('timeoutSeconds'), maxTimeout);
      return track('longpoll', async (signal) => {
        const abort = AbortSignal.any([signal, request.closed]);
        const result = await registry
          .waitForChange(since, { timeoutMs: timeoutSeconds * 1000, signal: abort })
          .catch(() => undefined);
        if (result === undefined) {
          if (!request.res.headersSent && !request.res.destroyed) {
            request.json(503, { error: { status: 503, message: 'shutting down' } });
          }
          return 'watch';
        }
        if (!result.changed) request.notModified(since);
        else request.snapshot(200, bodies.list(registry.snapshot(), access));
        return 'watch';
      });
    }
    if (path.startsWith('/v1/backends/')) {
      onlyParams(query, []);
      const id = decodeSegment(path.slice('/v1/backends/'.length));
      if (!ID_PATTERN.test(id)) {
        throw new HttpError(400, 'a backend id is a Kubernetes resource name (RFC 1123 subdomain)');
      }
      const snapshot = registry.snapshot();
      const backend = bodies.one(snapshot, id, request.access());
      if (backend === undefined) throw new HttpError(404, `backend "${id}" not found`);
      request.snapshot(200, { version: snapshot.version, body: backend });
      return 'backend';
    }
    if (path.startsWith('/v1/explain/') && options.explain !== undefined) {
      onlyParams(query, []);
      request.access();
      const name = decodeSegment(path.slice('/v1/explain/'.length));
      if (!ID_PATTERN.test(name)) {
        throw new HttpError(400, 'a name is a Kubernetes resource name (RFC 1123 subdomain)');
      }
      const explanation = await options.explain(name, request.closed);
      request.json(200, explanation);
      return 'explain';
    }
    if (path === '/v1/events') {
      onlyParams(query, []);
      const lastEventId = request.req.headers['last-event-id'];
      const since =
        lastEventId === undefined || lastEventId === ''
          ? undefined
          : parseVersion(String(lastEventId), 'Last-Event-ID');
      const access = request.access();
      return track('events', (signal) =>
        streamEvents(request, {
          registry,
          bodies,
          access,
          since,
          signal: AbortSignal.any([signal, request.closed]),
          heartbeatMs,
          slowClientTimeoutMs,
          logger,
          ready: () => options.ready(),
        }).then(() => 'events'),
      );
    }
    throw new HttpError(404, `no route for ${path}`);
  };

  const server = createServer(
    { requestTimeout: 30_000, headersTimeout: 20_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      const request = new Request(req, res, tokens);
      handle(request)
        .then(
          (route) => requests.inc({ route, code: String(res.statusCode) }),
          (error: unknown) => {
            const status = error instanceof HttpError ? error.status : 500;
            const message = error instanceof HttpError ? error.message : 'internal error';
            if (!(error instanceof HttpError)) {
              logger.error({ err: messageOf(error), path: request.path }, 'request failed');
            }
            if (!res.headersSent && !res.destroyed) {
              request.json(status, { error: { status, message } }, (error as HttpError).headers);
            } else res.destroy();
            requests.inc({ route: 'error', code: String(status) });
          },
        )
        .catch(() => undefined);
    },
  );
  server.on('clientError', (error, socket) => {
    // Oversized headers (431), malformed requests: answer if the socket can still take it.
    const code = (error as { code?: string }).code;
    const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    if (socket.writable) {
      const body = JSON.stringify({ error: { status, message: 'malformed request' } });
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
  });

  return {
    server,
    drain() {
      draining = true;
      for (const controller of longLived) controller.abort();
    },
  };
}

/** One request and its response, with the helpers every route shares. */
class Request {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly closed: AbortSignal;
  #access: Access | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly tokens: TokenCheck,
  ) {
    this.method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://local');
    this.path = url.pathname;
    this.query = url.searchParams;
    const closed = new AbortController();
    res.once('close', () => closed.abort());
    this.closed = closed.signal;
  }

  /** Whether this request may see secrets; a wrong token is a 401. */
  access(): Access {
    this.#access ??= this.tokens.access(this.req.headers.authorization);
    if (this.#access === 'denied') {
      throw new HttpError(401, 'the bearer token does not match', {
        'www-authenticate': 'Bearer',
      });
    }
    return this.#access;
  }

  json(status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(status, `${JSON.stringify(value)}\n`, {
      'content-type': 'application/json',
      ...headers,
    });
  }

  send(status: number, body: string | Buffer, headers: Record<string, string>): void {
    if (this.res.destroyed) return;
    this.res.writeHead(status, {
      'cache-control': 'no-store',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    this.res.end(this.method === 'HEAD' ? undefined : body);
  }

  /**
   * A versioned body with its ETag, or 304 when the client already holds that version. A body
   * that has a gzip form is sent compressed to a client that accepts gzip. The ETag names the
   * registry version, so it is `"N"` in both codings: every answer is `no-store` and ranges are
   * not served, so no cache can mix the two, and clients keep one validator per version.
   */
  snapshot(status: number, entry: Versioned): void {
    if (matchesEtag(this.req.headers['if-none-match'], entry.version)) {
      this.notModified(entry.version);
      return;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      etag: `"${entry.version}"`,
      [ACCESS_HEADER]: this.access(),
      vary: entry.gzipped === undefined ? 'Authorization' : 'Authorization, Accept-Encoding',
    };
    if (entry.gzipped !== undefined && acceptsGzip(this.req.headers['accept-encoding'])) {
      headers['content-encoding'] = 'gzip';
      this.send(status, entry.gzipped(), headers);
    } else this.send(status, entry.body, headers);
  }

  notModified(version: number): void {
    if (this.res.destroyed) return;
    this.res.writeHead(304, { etag: `"${version}"`, 'cache-control': 'no-store' });
    this.res.end();
  }
}

type Views = Partial<Record<Access, Buffer>>;

/** A body of one registry version; `gzipped` gives its gzip form, compressed once. */
interface Versioned {
  version: number;
  body: Buffer;
  gzipped?: () => Buffer;
}

/** Serialised bodies, per snapshot and view, shared by every client of that version. */
class BodyCache {
  readonly #lists = new WeakMap<RegistrySnapshot, Views>();
  readonly #items = new WeakMap<RegistrySnapshot, Map<string, Buffer>>();
  readonly #changes = new WeakMap<RegistryChange, Views>();
  readonly #gzipped = new WeakMap<Buffer, Buffer>();
  // Each stored backend is frozen and keeps its identity across versions until it changes, so
  // its JSON is made once per view: a list of 5000 after one change serialises one backend.
  readonly #json = {
    secrets: new WeakMap<Backend, string>(),
    redacted: new WeakMap<Backend, string>(),
  };

  list(snapshot: RegistrySnapshot, access: Access): Versioned {
    const views = getOrCreate(this.#lists, snapshot, (): Views => ({}));
    views[access] ??= Buffer.from(
      `${this.#listJson(snapshot.version, snapshot.backends, access)}\n`,
    );
    const body = views[access];
    // Synchronous like the serialisation above, and about as cheap: a few ms for 5000 backends.
    const gzipped = () => getOrCreate(this.#gzipped, body, () => gzipSync(body));
    return { version: snapshot.version, body, gzipped };
  }

  /** `{"version":N,"backends":[...]}`, byte for byte what JSON.stringify would give. */
  #listJson(version: number, backends: readonly Backend[], access: Access): string {
    return `{"version":${version},"backends":${this.#arrayJson(backends, access)}}`;
  }

  /** A JSON array of backends from their cached serialisations. */
  #arrayJson(backends: readonly Backend[], access: Access): string {
    return `[${backends.map((backend) => this.#backendJson(backend, access)).join(',')}]`;
  }

  #backendJson(backend: Backend, access: Access): string {
    const cache = access === 'secrets' ? this.#json.secrets : this.#json.redacted;
    return getOrCreate(cache, backend, () => JSON.stringify(view([backend], access)[0]));
  }

  one(snapshot: RegistrySnapshot, id: string, access: Access): Buffer | undefined {
    const items = getOrCreate(this.#items, snapshot, () => new Map<string, Buffer>());
    const key = `${access}/${id}`;
    let body = items.get(key);
    if (body === undefined) {
      const backend = snapshot.backends.find((b) => b.id === id);
      if (backend === undefined) return undefined;
      body = Buffer.from(`${this.#backendJson(backend, access)}\n`);
      items.set(key, body);
    }
    return body;
  }

  /**
   * An SSE `change` event, or a `snapshot` for a reset. A changed backend is serialised once per
   * view, for this event and for the lists and items that follow.
   */
  change(change: RegistryChange, access: Access): Buffer {
    const views = getOrCreate(this.#changes, change, (): Views => ({}));
    views[access] ??= change.reset
      ? sseData('snapshot', change.version, this.#listJson(change.version, change.upserted, access))
      : this.#changeEvent(change, access);
    return views[access];
  }

  /** `{"version":N,"upserted":[...],"removed":[...]}`, as JSON.stringify would give it. */
  #changeEvent(change: RegistryChange, access: Access): Buffer {
    const upserted = this.#arrayJson(change.upserted, access);
    const removed = change.removed.length === 0 ? '[]' : JSON.stringify(change.removed);
    return sseData(
      'change',
      change.version,
      `{"version":${change.version},"upserted":${upserted},"removed":${removed}}`,
    );
  }

  snapshotEvent(snapshot: RegistrySnapshot, access: Access): Buffer {
    return sseData(
      'snapshot',
      snapshot.version,
      this.#listJson(snapshot.version, snapshot.backends, access),
    );
  }
}

function getOrCreate<K extends object, V>(
  map: { get(key: K): V | undefined; set(key: K, value: V): unknown },
  key: K,
  make: () => V,
): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function view(backends: readonly Backend[], access: Access): readonly Backend[] {
  return access === 'secrets' ? backends : backends.map(redactBackend);
}

function sseData(event: string, id: number, json: string): Buffer {
  return Buffer.from(`event: ${event}\nid: ${id}\ndata: ${json}\n\n`);
}

interface StreamOptions {
  registry: DynamicRegistry;
  bodies: BodyCache;
  access: Access;
  since: number | undefined;
  signal: AbortSignal;
  heartbeatMs: number;
  slowClientTimeoutMs: number;
  logger: Logger;
  ready(): boolean;
}

/**
 * Server-Sent Events: a `heartbeat` event, then a `snapshot` event with the whole content (unless
 * the client resumes with `Last-Event-ID` from a version still in the history), then one `change`
 * event per registry change, each with the version as its id, and a `heartbeat` every
 * `heartbeatMs`. Each stream reads the shared change feed at its own
 * pace: when its socket buffer is full it waits for the client (never blocking the others), and
 * a client that reads nothing for `slowClientTimeoutMs` is dropped; it resumes with
 * `Last-Event-ID` and loses nothing.
 */
async function streamEvents(request: Request, options: StreamOptions): Promise<void> {
  const { res } = request;
  const { registry, bodies, access, signal } = options;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    [ACCESS_HEADER]: access,
  });
  res.flushHeaders();
  if (request.method === 'HEAD') {
    res.end();
    return;
  }
  res.write('retry: 1000\n\n');
  // A named event, not a comment: EventSource clients see it too. It has no id, so it never
  // moves a client's Last-Event-ID.
  const heartbeat = (): void => {
    const ready = options.ready();
    res.write(
      `event: heartbeat\ndata: {"version":${registry.version},"ready":${ready},"intervalMs":${options.heartbeatMs}}\n\n`,
    );
  };
  heartbeat();
  // Subscribe before reading the snapshot, so no change falls between the two.
  // A Last-Event-ID newer than the registry comes from an earlier process: start afresh.
  const snapshot = registry.snapshot();
  const resume = options.since !== undefined && options.since <= snapshot.version;
  const changes = registry.changes({
    signal,
    sinceVersion: resume ? (options.since as number) : snapshot.version,
  });
  if (!resume) res.write(bodies.snapshotEvent(snapshot, access));
  const heartbeats = setInterval(heartbeat, options.heartbeatMs);
  heartbeats.unref();
  try {
    for await (const change of changes) {
      if (res.destroyed) break;
      if (res.write(bodies.change(change, access))) continue;
      if (!(await drained(res, options.slowClientTimeoutMs))) {
        if (!res.destroyed) {
          options.logger.warn(
            { buffered: res.writableLength, version: change.version },
            'event stream client too slow; dropped (it can resume with Last-Event-ID)',
          );
          res.destroy();
        }
        break;
      }
    }
  } finally {
    clearInterval(heartbeats);
    if (!res.destroyed) res.end();
  }
}

/** Resolves true once the response's buffer drained, false on close or after `timeoutMs`. */
function drained(res: ServerResponse, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (value: boolean): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(value);
    };
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function onlyParams(query: URLSearchParams, allowed: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!allowed.includes(key)) {
      throw new HttpError(
        400,
        `unknown query parameter "${truncate(key)}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`,
      );
    }
    if (seen.has(key)) throw new HttpError(400, `query parameter "${key}" given twice`);
    seen.add(key);
  }
}

function parseVersion(value: string, what: string): number {
  if (!VERSION_PATTERN.test(value)) {
    throw new HttpError(400, `${what} must be a registry version (a non-negative integer)`);
  }
  return Number(value);
}

function parseTimeout(value: string | null, max: number): number {
  if (value === null) return DEFAULT_POLL_SECONDS;
  const seconds = Number(value);
  if (!/^\d{1,6}$/.test(value) || seconds < 1 || seconds > max) {
    throw new HttpError(400, `timeoutSeconds must be an integer from 1 to ${max}`);
  }
  return seconds;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'the backend id is not valid percent-encoding');
  }
}

/**
 * Whether `Accept-Encoding` allows gzip: `gzip` (or `x-gzip`) with a non-zero q, or `*` with a
 * non-zero q when gzip is not named. A malformed q counts as 0.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const weight =
      q === undefined
        ? 1
        : /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q.slice(2))
          ? Number(q.slice(2))
          : 0;
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, weight);
    else if (coding === '*') any = weight;
  }
  return (gzip ?? any ?? 0) > 0;
}

/** `If-None-Match`: `"N"`, `W/"N"`, a list of them, or `*`. */
function matchesEtag(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .includes(`"${version}"`);
}

function truncate(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
