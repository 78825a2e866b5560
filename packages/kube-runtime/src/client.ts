import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { Readable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from './clock.js';
import { checkDuration, type DurationRange } from './duration.js';
import type { KubeObject, ResourceRef } from './types.js';

/** The Kubernetes `Status` object that API errors carry. */
export interface Status {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    retryAfterSeconds?: number;
    causes?: unknown[];
  };
}

/**
 * An error answer of the API server, carrying its `Status`. Branch on `reason` (`NotFound`,
 * `Conflict`, `Expired`, `Gone`, ...), never on the message. The message names the request,
 * never the object's data.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: number;
  readonly reason: string;
  readonly status: Status;
  /**
   * From `Retry-After` or `details.retryAfterSeconds`, when it is a finite number of seconds, 0 or
   * more; as the server sent it (the watcher's backoff caps how long it is waited).
   */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: number, status: Status, what: string, retryAfterSeconds?: number) {
    super(
      `${what}: ${code} ${status.reason ?? 'Unknown'}${status.message ? `: ${status.message}` : ''}`,
    );
    this.code = code;
    this.reason = status.reason ?? '';
    this.status = status;
    const seconds = retryAfterSeconds ?? status.details?.retryAfterSeconds;
    this.retryAfterSeconds =
      typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
  }
}

/** 404: the object (or the resource) does not exist. */
export const isNotFound = (error: unknown): boolean =>
  error instanceof ApiError && error.code === 404;
/** 409: a write lost a race (a stale resourceVersion) or the object already exists. */
export const isConflict = (error: unknown): boolean =>
  error instanceof ApiError && error.code === 409;
/** 410: the resourceVersion or continue token is too old (`Expired` or `Gone`). */
export const isGone = (error: unknown): boolean => error instanceof ApiError && error.code === 410;
/**
 * "Too large resource version": the server has not caught up with the requested version
 * (client-go relists on it, as on 410).
 */
export function isTooLargeResourceVersion(error: unknown): boolean {
  if (!(error instanceof ApiError) || error.code !== 504) return false;
  return (error.status.details?.causes ?? []).some(
    (cause) => (cause as { reason?: string }).reason === 'ResourceVersionTooLarge',
  );
}

/** A list page or a whole list. */
export interface ObjectList<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

/** Query parameters of list and watch requests. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  limit?: number;
  continue?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

type PatchType = 'merge' | 'json' | 'strategic';
const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** The streaming answer of a watch request. */
export interface WatchResponse {
  statusCode: number;
  /** The body, not yet read (flowing or async-iterable); destroy it to stop. */
  body: Readable;
}

/** The TLS settings a `KubeConfig` can put into request options, copied onto our agent. */
const TLS_OPTIONS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'servername',
  'rejectUnauthorized',
  'ciphers',
  'crl',
  'secureProtocol',
  'secureOptions',
] as const satisfies readonly (keyof RequestOptions)[];

/** How long a plain request may stay silent (no bytes either way) before it fails. */
const REQUEST_IDLE_MS = 300_000;

/**
 * A request's `timeoutMs` (and `getTimeoutMs`): 1 ms to 10 min. A request is already failed
 * after 5 min without a byte; a bound much longer than that bounds nothing.
 */
const REQUEST_TIMEOUT_RANGE: DurationRange = { min: 1, max: 600_000 };

/**
 * A request that did not complete within its `timeoutMs` (see {@link KubeClient.requestJson}):
 * the API server may be hung or overloaded. Code `ETIMEDOUT`, as Node's own socket timeouts.
 */
export class RequestTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super(`${what}: no complete answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `Accept` headers asking for `PartialObjectMetadata` (metadata only, as client-go's metadata
 * client asks), with plain JSON as the fallback for a server that cannot serve it.
 */
const METADATA_ACCEPT = {
  object: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
  list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
} as const;
/** How long a watch may take to answer with its headers; after that the stall watchdog rules. */
const WATCH_HEADERS_MS = 30_000;

/**
 * HTTP to the API server with Node's own `http`/`https`: TLS and credentials from a
 * `KubeConfig` (`applyToHTTPSOptions` handles token files, exec and OIDC providers and is asked
 * again for every request, so rotated tokens are used), one keep-alive connection pool,
 * streaming bodies, and cancellation by AbortSignal. A cluster with a `proxy-url` goes through
 * the proxy agent client-node builds for it.
 */
export class KubeClient {
  readonly server: string;
  readonly #kubeConfig: KubeConfig;
  readonly #request: typeof httpsRequest;
  readonly #proxied: boolean;
  #agent: Agent | undefined;
  #tls: Record<string, unknown> | undefined;
  /** Every agent made here (older ones until their last request ends), for `close`. */
  readonly #agents = new Set<Agent>();

  constructor(kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
    this.#kubeConfig = kubeConfig;
    this.#request = this.server.startsWith('http:') ? httpRequest : httpsRequest;
    this.#proxied = Boolean(cluster.proxyUrl);
  }

  /** The current context's namespace, if any. */
  get defaultNamespace(): string | undefined {
    const context = this.#kubeConfig.getContextObject(this.#kubeConfig.getCurrentContext());
    return context?.namespace || undefined;
  }

  /** Request options with the kubeconfig's credentials, on the pool for its TLS settings. */
  async #options(method: string, accept: Record<string, string>): Promise<RequestOptions> {
    const options: RequestOptions = { headers: {} };
    await this.#kubeConfig.applyToHTTPSOptions(options);
    // client-node's own agent does not keep connections alive: ours does, with the same TLS
    // settings, made again when they change (an exec plugin's rotated client certificate, a
    // rewritten CA file). Through a proxy, its proxy agent (cached per cluster and user) is used.
    if (this.#proxied && options.agent instanceof Agent) this.#agent ??= options.agent;
    else this.#usePoolFor(tlsOf(options));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
    }
    return {
      method,
      agent: this.#agent,
      headers: { ...headers, ...accept },
      ...(options.auth ? { auth: options.auth } : {}),
    };
  }

  /**
   * Keeps the pool while the TLS settings stay the same, else makes a new one. Requests in flight
   * on the old pool (a watch) finish on their connection, which then closes (an agent keeps no
   * free socket past maxFreeSockets); idle ones close now, and older agents left without
   * connections are forgotten.
   */
  #usePoolFor(tls: Record<string, unknown>): void {
    if (this.#agent !== undefined && sameSettings(tls, this.#tls)) return;
    const previous = this.#agent;
    const AgentClass = this.#request === httpRequest ? Agent : HttpsAgent;
    this.#agent = new AgentClass({ ...tls, keepAlive: true, scheduling: 'lifo' });
    this.#agents.add(this.#agent);
    this.#tls = tls;
    if (previous) {
      previous.maxFreeSockets = 0;
      for (const idle of Object.values(previous.freeSockets)) {
        for (const socket of idle ?? []) socket.destroy();
      }
    }
    for (const agent of this.#agents) {
      if (agent !== this.#agent && Object.keys(agent.sockets).length === 0)
        this.#agents.delete(agent);
    }
  }

  /** Sends a request; resolves with the response once its headers are in. */
  #send(
    path: string,
    options: RequestOptions,
    payload: string | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = this.#request(`${this.server}${path}`, {
        ...options,
        ...(signal ? { signal } : {}),
      });
      request.setTimeout(timeoutMs, () =>
        request.destroy(new Error(`no bytes from the API server for ${timeoutMs} ms`)),
      );
      request.on('error', reject);
      request.once('response', resolve);
      request.end(payload);
    });
  }

  /**
   * One JSON request. Non-2xx answers become {@link ApiError}, whose message starts with `what`
   * (default: the method and the path without its query). With `timeoutMs`, the whole request
   * (headers and body) must complete within that time, else it is aborted with a
   * {@link RequestTimeoutError}; without, only silence longer than 300 s fails it. `timeoutMs`
   * is 1 ms to 10 min (else a `RangeError`, before anything is sent).
   */
  async requestJson<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: {
      body?: unknown;
      contentType?: string;
      signal?: AbortSignal;
      what?: string;
      timeoutMs?: number;
      accept?: string;
    } = {},
  ): Promise<T> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const what = options.what ?? `${method} ${path.split('?')[0]}`;
    const deadline =
      options.timeoutMs === undefined
        ? undefined
        : new Deadline(checkDuration('timeoutMs', options.timeoutMs, REQUEST_TIMEOUT_RANGE));
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
    if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    try {
      const response = await this.#send(
        path,
        await this.#options(method, headers),
        payload,
        anySignal(options.signal, deadline?.signal),
        REQUEST_IDLE_MS,
      );
      return await jsonAnswer<T>(response, what);
    } catch (error) {
      if (deadline?.signal.aborted && !options.signal?.aborted) {
        throw new RequestTimeoutError(what, deadline.timeoutMs);
      }
      throw error;
    } finally {
      deadline?.clear();
    }
  }

  /**
   * Opens a watch (or any streaming GET, `what` naming it in errors); the caller reads `body` and
   * aborts via the signal.
   */
  async stream(
    path: string,
    signal: AbortSignal,
    what = 'watch',
    accept = 'application/json',
  ): Promise<WatchResponse> {
    const watching = what === 'watch';
    const response = await this.#send(
      path,
      await this.#options('GET', { accept }),
      undefined,
      signal,
      watching ? WATCH_HEADERS_MS : REQUEST_IDLE_MS,
    );
    // A watch is long: no idle timeout from here on, the watcher's stall watchdog covers silence.
    // Anything else keeps failing after that long without a byte.
    if (watching) response.socket?.setTimeout(0);
    const code = response.statusCode ?? 0;
    if (code !== 200) {
      const text = await readText(response);
      throw apiErrorOf(
        code,
        text,
        response.headers['retry-after'],
        `${what} ${path.split('?')[0]}`,
      );
    }
    return { statusCode: code, body: response };
  }

  /** Releases the connection pool (a proxy agent stays with the `KubeConfig` that owns it). */
  async close(): Promise<void> {
    for (const agent of this.#agents) agent.destroy();
    this.#agents.clear();
    this.#agent = undefined;
    this.#tls = undefined;
  }
}

/** A timer that aborts a signal, cleared when the request ends first. */
class Deadline {
  readonly timeoutMs: number;
  readonly #controller = new AbortController();
  readonly #cancel: () => void;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    this.#cancel = systemClock.setTimer(timeoutMs, () => this.#controller.abort());
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  clear(): void {
    this.#cancel();
  }
}

/** The TLS settings of request options that a pool's agent takes. */
function tlsOf(options: RequestOptions): Record<string, unknown> {
  const tls: Record<string, unknown> = {};
  for (const name of TLS_OPTIONS) if (options[name] !== undefined) tls[name] = options[name];
  return tls;
}

/** A signal that aborts when either given one does (or the one given, or none). */
function anySignal(
  a: AbortSignal | undefined,
  b: AbortSignal | undefined,
): AbortSignal | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : AbortSignal.any([a, b]);
}

/** The body of a JSON answer, or the {@link ApiError} of an error answer. */
async function jsonAnswer<T>(response: IncomingMessage, what: string): Promise<T> {
  const text = await readText(response);
  const code = response.statusCode ?? 0;
  if (code >= 200 && code < 300) return (text ? JSON.parse(text) : undefined) as T;
  throw apiErrorOf(code, text, response.headers['retry-after'], what);
}

/** Whether two sets of TLS settings are the same (Buffers by content: files are read each time). */
function sameSettings(a: Record<string, unknown>, b: Record<string, unknown> | undefined): boolean {
  if (b === undefined) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => {
    const x = a[key];
    const y = b[key];
    return Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y;
  });
}

/** A whole response body as UTF-8 text. */
async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Builds an {@link ApiError} from an error answer. */
export function apiErrorOf(
  code: number,
  text: string,
  retryAfter: unknown,
  what: string,
): ApiError {
  let status: Status = { code, reason: code === 429 ? 'TooManyRequests' : 'Unknown' };
  try {
    const parsed = JSON.parse(text) as Status;
    if (parsed && parsed.kind === 'Status') status = parsed;
  } catch {
    // not a Status: keep the default, never echo the body (it may hold object data)
  }
  const seconds = typeof retryAfter === 'string' ? Number(retryAfter) : undefined;
  return new ApiError(
    code,
    status,
    what,
    seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined,
  );
}

/** The URL path of a resource collection, or of one object with `name`. */
function resourcePath(resource: ResourceRef, namespace: string | undefined, name?: string): string {
  const base =
    resource.group === ''
      ? `/api/${resource.version}`
      : `/apis/${resource.group}/${resource.version}`;
  const scope =
    namespace && resource.namespaced !== false
      ? `/namespaces/${encodeURIComponent(namespace)}`
      : '';
  return `${base}${scope}/${resource.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** A query string from list/watch options (empty values left out). */
export function queryString(options: ListOptions & { watch?: boolean }): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Options of {@link ResourceClient}. */
export interface ResourceClientOptions {
  /**
   * Ask for `PartialObjectMetadata` on get, list and watch: objects come with `metadata` only
   * (kind `PartialObjectMetadata`, apiVersion `meta.k8s.io/v1`), as client-go's metadata client
   * reads them. A server that cannot serve it answers with whole objects.
   */
  metadataOnly?: boolean;
  /**
   * Every `get` must complete within this time (1 ms to 10 min), else it fails with a
   * {@link RequestTimeoutError}. Default: no bound (only 300 s of silence fails a request).
   */
  getTimeoutMs?: number;
}

/** Typed calls for one resource type in one namespace. */
export class ResourceClient<T extends KubeObject = KubeObject> {
  readonly client: KubeClient;
  readonly resource: ResourceRef;
  readonly namespace: string | undefined;
  readonly metadataOnly: boolean;
  readonly #getTimeoutMs: number | undefined;

  constructor(
    client: KubeClient,
    resource: ResourceRef,
    namespace?: string,
    options: ResourceClientOptions = {},
  ) {
    this.client = client;
    this.resource = resource;
    this.namespace = namespace;
    this.metadataOnly = options.metadataOnly === true;
    this.#getTimeoutMs =
      options.getTimeoutMs === undefined
        ? undefined
        : checkDuration('getTimeoutMs', options.getTimeoutMs, REQUEST_TIMEOUT_RANGE);
  }

  #path(name?: string, subresource?: string): string {
    return (
      resourcePath(this.resource, this.namespace, name) + (subresource ? `/${subresource}` : '')
    );
  }

  #what(verb: string, name?: string): string {
    return `${verb} ${this.resource.kind} ${this.namespace ? `${this.namespace}/` : ''}${name ?? ''}`;
  }

  get(name: string, signal?: AbortSignal): Promise<T> {
    return this.client.requestJson<T>('GET', this.#path(name), {
      what: this.#what('get', name),
      ...(signal ? { signal } : {}),
      ...(this.#getTimeoutMs === undefined ? {} : { timeoutMs: this.#getTimeoutMs }),
      ...(this.metadataOnly ? { accept: METADATA_ACCEPT.object } : {}),
    });
  }

  /** One page (or the whole list when the server ignores `limit`). */
  listPage(options: ListOptions = {}, signal?: AbortSignal): Promise<ObjectList<T>> {
    return this.client.requestJson<ObjectList<T>>('GET', this.#path() + queryString(options), {
      ...(signal ? { signal } : {}),
      ...(this.metadataOnly ? { accept: METADATA_ACCEPT.list } : {}),
    });
  }

  /**
   * One page (or the whole list when the server ignores `limit`) as a stream, for
   * {@link ListScanner}: items can be handled one by one as they arrive.
   */
  listStream(options: ListOptions = {}, signal?: AbortSignal): Promise<WatchResponse> {
    return this.client.stream(
      this.#path() + queryString(options),
      signal ?? new AbortController().signal,
      'list',
      this.metadataOnly ? METADATA_ACCEPT.list : undefined,
    );
  }

  /** Every page, following continue tokens (limit 500 per page by default). */
  async list(options: ListOptions = {}, signal?: AbortSignal): Promise<ObjectList<T>> {
    const items: T[] = [];
    let page = await this.listPage({ limit: 500, ...options }, signal);
    items.push(...page.items);
    while (page.metadata.continue) {
      page = await this.listPage(
        { limit: options.limit ?? 500, continue: page.metadata.continue },
        signal,
      );
      items.push(...page.items);
    }
    return {
      items,
      metadata: {
        ...(page.metadata.resourceVersion
          ? { resourceVersion: page.metadata.resourceVersion }
          : {}),
      },
    };
  }

  create(object: T, signal?: AbortSignal): Promise<T> {
    return this.client.requestJson<T>('POST', this.#path(), {
      body: object,
      ...(signal ? { signal } : {}),
    });
  }

  replace(object: T, signal?: AbortSignal): Promise<T> {
    return this.client.requestJson<T>('PUT', this.#path(object.metadata.name), {
      body: object,
      ...(signal ? { signal } : {}),
    });
  }

  patch(name: string, patch: unknown, type: PatchType = 'merge', signal?: AbortSignal): Promise<T> {
    return this.client.requestJson<T>('PATCH', this.#path(name), {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      ...(signal ? { signal } : {}),
    });
  }

  patchStatus(
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    signal?: AbortSignal,
  ): Promise<T> {
    return this.client.requestJson<T>('PATCH', this.#path(name, 'status'), {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      ...(signal ? { signal } : {}),
    });
  }

  replaceStatus(object: T, signal?: AbortSignal): Promise<T> {
    return this.client.requestJson<T>('PUT', this.#path(object.metadata.name, 'status'), {
      body: object,
      ...(signal ? { signal } : {}),
    });
  }

  async delete(name: string, signal?: AbortSignal): Promise<void> {
    await this.client.requestJson('DELETE', this.#path(name), signal ? { signal } : {});
  }

  /** Opens a watch stream. */
  watch(options: ListOptions, signal: AbortSignal): Promise<WatchResponse> {
    return this.client.stream(
      this.#path() + queryString({ ...options, watch: true }),
      signal,
      'watch',
      this.metadataOnly ? METADATA_ACCEPT.object : undefined,
    );
  }
}
