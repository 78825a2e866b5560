import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access, TokenCheck } from '../auth.js';
import { HttpError } from './http-error.js';
import { hostError, parseTarget, printable } from './request-target.js';

/** Tells a client whether secret values are in the answer (`secrets`) or `[REDACTED]`. */
export const ACCESS_HEADER = 'vmcp-access';

/** A body of one registry version; `gzipped` gives its gzip form, compressed once. */
export interface Versioned {
  version: number;
  body: Buffer;
  gzipped?: () => Buffer;
}

/**
 * One request and its response, with the helpers every route shares. Constructing one never
 * throws: a target or Host header that makes the request unservable is kept in
 * {@link Request.unservable}, which the router answers first.
 */
export class Request {
  readonly method: string;
  /** The target's path; empty when the request is {@link Request.unservable}. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Why the request cannot be routed (its target or Host header): a 400 or 414. */
  readonly unservable: HttpError | undefined;
  /** Aborts when the response closes (the client left, or the answer was sent). */
  readonly closed: AbortSignal;
  #access: Access | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly tokens: TokenCheck,
  ) {
    this.method = req.method ?? 'GET';
    const target = parseTarget(this.method, req.url ?? '');
    const unservable =
      target instanceof HttpError ? target : hostError(req.httpVersion, req.rawHeaders);
    this.unservable = unservable;
    this.path = target instanceof HttpError ? '' : target.path;
    this.query = target instanceof HttpError ? new URLSearchParams() : target.query;
    const closed = new AbortController();
    res.once('close', () => closed.abort());
    this.closed = closed.signal;
  }

  /** The target as it may appear in a log line (printable, at most 64 characters). */
  get target(): string {
    return printable(this.req.url ?? '');
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

// ---- parameters: each a 400 with a message that names what is wrong ----------------------------

const ID_PATTERN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const VERSION_PATTERN = /^(0|[1-9]\d{0,15})$/;
const DEFAULT_POLL_SECONDS = 30;

/** Refuses a query parameter that is not `allowed`, or one given twice. */
export function onlyParams(query: URLSearchParams, allowed: readonly string[]): void {
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

export function parseVersion(value: string, what: string): number {
  if (!VERSION_PATTERN.test(value)) {
    throw new HttpError(400, `${what} must be a registry version (a non-negative integer)`);
  }
  return Number(value);
}

/** A long-poll's `timeoutSeconds`: 30 when absent, else an integer from 1 to `max`. */
export function parseTimeout(value: string | null, max: number): number {
  if (value === null) return DEFAULT_POLL_SECONDS;
  const seconds = Number(value);
  if (!/^\d{1,6}$/.test(value) || seconds < 1 || seconds > max) {
    throw new HttpError(400, `timeoutSeconds must be an integer from 1 to ${max}`);
  }
  return seconds;
}

/** A path segment that names a Kubernetes object (`what` says which, for the error). */
export function parseName(segment: string, what: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'the backend id is not valid percent-encoding');
  }
  if (!ID_PATTERN.test(name)) {
    throw new HttpError(400, `${what} is a Kubernetes resource name (RFC 1123 subdomain)`);
  }
  return name;
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
