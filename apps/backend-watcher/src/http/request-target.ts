import { HttpError } from './http-error.js';

/**
 * The longest request target served, in bytes: RFC 9112 asks servers to take request lines of
 * at least 8000 octets. A longer one is a 414. (Node's parser refuses a request line and header
 * fields longer than {@link MAX_HEADER_BYTES} together before this check can run: a 431, or a
 * 414 when it was the request line that overflowed.)
 */
export const MAX_TARGET_BYTES = 8192;

/** The most request line and header fields Node's parser takes for one request (its default). */
export const MAX_HEADER_BYTES = 16_384;

/** What the routes read of a request target: the path (dot segments resolved) and the query. */
export interface Target {
  path: string;
  query: URLSearchParams;
}

/**
 * Parses a request target in any of RFC 9112's four forms, never throwing:
 * - origin-form `/path?query`: the path as given. A target starting with `//` is a path, not a
 *   network-path reference (`//a:b/` is the path `//a:b/`, which no route serves);
 * - absolute-form `http://host/path?query` (servers must accept it): the host is ignored, the
 *   scheme must be http or https and the authority must parse;
 * - asterisk-form `*`: only with OPTIONS (which the router then refuses with 405);
 * - authority-form `host:port`: only with CONNECT, which never reaches a route.
 * Anything else, or a target longer than {@link MAX_TARGET_BYTES}, is an {@link HttpError}
 * (414 for the length, 400 otherwise) returned as a value.
 */
export function parseTarget(method: string, raw: string): Target | HttpError {
  if (Buffer.byteLength(raw) > MAX_TARGET_BYTES) {
    return new HttpError(414, `the request target is longer than ${MAX_TARGET_BYTES} bytes`);
  }
  if (raw.startsWith('/')) return fromUrl(URL.parse(`http://origin.invalid${raw}`), raw);
  if (raw === '*') {
    return method === 'OPTIONS'
      ? { path: '*', query: new URLSearchParams() }
      : new HttpError(400, 'the request target "*" is only for OPTIONS');
  }
  if (/^https?:\/\//i.test(raw)) return fromUrl(URL.parse(raw), raw);
  return new HttpError(
    400,
    `the request target "${printable(raw)}" is neither a path nor an http(s) URL`,
  );
}

function fromUrl(url: URL | null, raw: string): Target | HttpError {
  if (url === null) {
    return new HttpError(400, `the request target "${printable(raw)}" is not a valid URL`);
  }
  return { path: url.pathname, query: url.searchParams };
}

/**
 * Why a request's Host header makes it unservable, or undefined: an HTTP/1.1 request needs
 * exactly one (RFC 9112 §3.2), and a request with two is refused by any version.
 */
export function hostError(
  httpVersion: string,
  rawHeaders: readonly string[],
): HttpError | undefined {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return new HttpError(400, 'the request has more than one Host header');
  if (hosts === 0 && httpVersion === '1.1') {
    return new HttpError(400, 'an HTTP/1.1 request needs a Host header');
  }
  return undefined;
}

/** A target as it may appear in an error message: at most 64 characters, printable ASCII. */
export function printable(raw: string): string {
  const clean = raw.replace(/[^\x20-\x7e]/g, '?').replace(/"/g, '%22');
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}
