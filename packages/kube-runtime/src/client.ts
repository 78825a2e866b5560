import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, request } from 'undici';
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
  /** From `Retry-After` or `details.retryAfterSeconds`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: number, status: Status, what: string, retryAfterSeconds?: number) {
    super(
      `${what}: ${code} ${status.reason ?? 'Unknown'}${status.message ? `: ${status.message}` : ''}`,
    );
    this.code = code;
    this.reason = status.reason ?? '';
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds ?? status.details?.retryAfterSeconds;
  }
}

export const isNotFound = (error: unknown): boolean =>
  error instanceof ApiError && error.code === 404;
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
  body: AsyncIterable<Buffer>;
}

/**
 * HTTP to the API server with undici: TLS and credentials from a `KubeConfig`
 * (`applyToHTTPSOptions` handles token files, exec and OIDC providers and is asked again for
 * every request, so rotated tokens are used), streaming bodies, and cancellation by AbortSignal.
 */
export class KubeClient {
  readonly server: string;
  readonly #kubeConfig: KubeConfig;
  #agent: Agent | undefined;

  constructor(kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
    this.#kubeConfig = kubeConfig;
  }

  /** The current context's namespace, if any. */
  get defaultNamespace(): string | undefined {
    const context = this.#kubeConfig.getContextObject(this.#kubeConfig.getCurrentContext());
    return context?.namespace || undefined;
  }

  async #options(): Promise<{ headers: Record<string, string>; dispatcher: Agent }> {
    const options: RequestOptions = { headers: {} };
    await this.#kubeConfig.applyToHTTPSOptions(options);
    if (this.#agent === undefined) {
      this.#agent = new Agent({
        connect: {
          ...(options.ca ? { ca: options.ca } : {}),
          ...(options.cert ? { cert: options.cert } : {}),
          ...(options.key ? { key: options.key } : {}),
          rejectUnauthorized: options.rejectUnauthorized !== false,
        },
        keepAliveTimeout: 30_000,
      });
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
    }
    return { headers, dispatcher: this.#agent };
  }

  /** One JSON request. Non-2xx answers become {@link ApiError}. */
  async requestJson<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: { body?: unknown; contentType?: string; signal?: AbortSignal; what?: string } = {},
  ): Promise<T> {
    const { headers, dispatcher } = await this.#options();
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const response = await request(`${this.server}${path}`, {
      method,
      dispatcher,
      headers: {
        ...headers,
        accept: 'application/json',
        ...(payload === undefined
          ? {}
          : { 'content-type': options.contentType ?? 'application/json' }),
      },
      ...(payload === undefined ? {} : { body: payload }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = await response.body.text();
    if (response.statusCode >= 200 && response.statusCode < 300)
      return (text ? JSON.parse(text) : undefined) as T;
    throw apiErrorOf(
      response.statusCode,
      text,
      response.headers['retry-after'],
      `${method} ${path.split('?')[0]}`,
    );
  }

  /** Opens a watch (or any streaming GET); the caller reads `body` and aborts via the signal. */
  async stream(path: string, signal: AbortSignal): Promise<WatchResponse> {
    const { headers, dispatcher } = await this.#options();
    const response = await request(`${this.server}${path}`, {
      method: 'GET',
      dispatcher,
      headers: { ...headers, accept: 'application/json' },
      signal,
      // A watch is long: no body timeout here, the watcher's stall watchdog covers silence.
      bodyTimeout: 0,
      headersTimeout: 30_000,
    });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw apiErrorOf(
        response.statusCode,
        text,
        response.headers['retry-after'],
        `watch ${path.split('?')[0]}`,
      );
    }
    return { statusCode: response.statusCode, body: response.body };
  }

  /** Releases the connection pool. */
  async close(): Promise<void> {
    await this.#agent?.close();
  }
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
export function resourcePath(
  resource: ResourceRef,
  namespace: string | undefined,
  name?: string,
): string {
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

/** Typed calls for one resource type in one namespace. */
export class ResourceClient<T extends KubeObject = KubeObject> {
  readonly client: KubeClient;
  readonly resource: ResourceRef;
  readonly namespace: string | undefined;

  constructor(client: KubeClient, resource: ResourceRef, namespace?: string) {
    this.client = client;
    this.resource = resource;
    this.namespace = namespace;
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
    });
  }

  /** One page (or the whole list when the server ignores `limit`). */
  listPage(options: ListOptions = {}, signal?: AbortSignal): Promise<ObjectList<T>> {
    return this.client.requestJson<ObjectList<T>>(
      'GET',
      this.#path() + queryString(options),
      signal ? { signal } : {},
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
    return this.client.stream(this.#path() + queryString({ ...options, watch: true }), signal);
  }
}
