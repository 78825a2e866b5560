/**
 * From a registry `Backend` to what an MCP client needs to reach it: the URL, the transport, the
 * headers (auth and `headerForward`) and the CA to trust; or the reason this gateway will not
 * connect to it. Pure: the environment is passed in, nothing is read or opened here.
 */
import { type Backend, REDACTED } from '@vmcp/registry';

/** The transports an MCP client speaks over HTTP. */
export type HttpTransport = 'streamable-http' | 'sse';

/** Where the CA bundle to trust comes from: PEM text from a ConfigMap, or a mounted file. */
export type CaBundle = { readonly pem: string } | { readonly path: string };

/** How to reach one backend. Header values are secret material: never log them. */
export interface ConnectionSettings {
  readonly url: string;
  readonly transport: HttpTransport;
  /** Sent with every request: the auth header, then `headerForward`'s headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Trust exactly this CA bundle for an https URL; undefined: the system's CAs. */
  readonly ca: CaBundle | undefined;
  /** The secret values among the headers, to scrub from any text the gateway shows. */
  readonly secrets: readonly string[];
}

/** The settings, or why the backend is left out (`excluded`: retrying would not help). */
export type SettingsResult =
  | { readonly ok: true; readonly settings: ConnectionSettings }
  | { readonly ok: false; readonly reason: string };

/** Where `headerForward`'s secret headers come from: upstream's operator injects them as env. */
export const SECRET_ENV_PREFIX = 'TOOLHIVE_SECRET_';

/**
 * Headers the MCP transport itself sets or that frame the HTTP message: a backend's settings may
 * not replace them (the gateway would break its own protocol or smuggle a request).
 */
const RESERVED_HEADERS = new Set([
  'accept',
  'connection',
  'content-length',
  'content-type',
  'host',
  'keep-alive',
  'last-event-id',
  'mcp-protocol-version',
  'mcp-session-id',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The connection settings of `backend`. Left out, with the reason: a transport other than
 * `streamable-http` and `sse`, a URL that is not http(s) or carries credentials, an auth strategy
 * other than `unauthenticated` and `header_injection` (this example implements no token
 * exchange), a secret the registry served redacted, a `headerForward` secret whose
 * `TOOLHIVE_SECRET_<identifier>` variable is not set, and a header that is malformed or reserved.
 */
export function connectionSettings(backend: Backend, env: Env): SettingsResult {
  const { transportType } = backend;
  if (transportType !== 'streamable-http' && transportType !== 'sse') {
    return excluded(`transport "${transportType}" is not reachable over HTTP by this gateway`);
  }
  const urlProblem = checkUrl(backend.baseUrl);
  if (urlProblem !== undefined) return excluded(urlProblem);
  const headers = new Map<string, string>();
  const secrets: string[] = [];
  const problem =
    addAuthHeader(backend, headers, secrets) ?? addForwardedHeaders(backend, env, headers, secrets);
  if (problem !== undefined) return excluded(problem);
  const ca: CaBundle | undefined =
    backend.caBundleData !== undefined && backend.caBundleData !== ''
      ? { pem: backend.caBundleData }
      : backend.caBundlePath
        ? { path: backend.caBundlePath }
        : undefined;
  return {
    ok: true,
    settings: {
      url: backend.baseUrl,
      transport: transportType,
      headers: Object.fromEntries(headers),
      ca,
      secrets,
    },
  };
}

function excluded(reason: string): SettingsResult {
  return { ok: false, reason };
}

function checkUrl(baseUrl: string): string | undefined {
  if (!URL.canParse(baseUrl)) return 'its URL cannot be parsed';
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `its URL's scheme ${JSON.stringify(url.protocol)} is not http or https`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'its URL carries credentials; use an MCPExternalAuthConfig instead';
  }
  return undefined;
}

/** `header_injection` adds its header; `unauthenticated` and no auth add nothing. */
function addAuthHeader(
  backend: Backend,
  headers: Map<string, string>,
  secrets: string[],
): string | undefined {
  const auth = backend.authConfig;
  if (auth === undefined || auth.type === 'unauthenticated') return undefined;
  if (auth.type !== 'header_injection') {
    return `auth strategy "${auth.type}" is not implemented by this example (only header_injection and unauthenticated are)`;
  }
  if (auth.headerValue === REDACTED) {
    return 'the registry serves its header value redacted: give the gateway the sidecar API token (--token-file)';
  }
  secrets.push(auth.headerValue);
  return setHeader(headers, auth.headerName, auth.headerValue, 'auth header');
}

/**
 * Upstream's header forwarding: plaintext headers verbatim; a secret header's value from the
 * environment variable `TOOLHIVE_SECRET_<identifier>`. Applied after the auth header, as
 * upstream's middleware runs last: a forwarded header of the same name wins.
 */
function addForwardedHeaders(
  backend: Backend,
  env: Env,
  headers: Map<string, string>,
  secrets: string[],
): string | undefined {
  const forward = backend.headerForward;
  for (const [name, value] of Object.entries(forward?.addPlaintextHeaders ?? {})) {
    const problem = setHeader(headers, name, value, 'forwarded header');
    if (problem !== undefined) return problem;
  }
  for (const [name, identifier] of Object.entries(forward?.addHeadersFromSecret ?? {})) {
    if (!/^[A-Za-z0-9_]{1,200}$/.test(identifier)) {
      return `forwarded header ${JSON.stringify(name)} names a malformed secret identifier`;
    }
    const variable = `${SECRET_ENV_PREFIX}${identifier}`;
    const value = env[variable];
    if (value === undefined || value === '') {
      return `forwarded header ${JSON.stringify(name)}: environment variable ${variable} is not set`;
    }
    secrets.push(value);
    const problem = setHeader(headers, name, value, 'forwarded header');
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Sets a header (names are case-insensitive), or says why it cannot be sent. Never quotes the value. */
function setHeader(
  headers: Map<string, string>,
  name: string,
  value: string,
  what: string,
): string | undefined {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/.test(name)) {
    return `${what} name ${JSON.stringify(name.slice(0, 80))} is not a valid HTTP header name`;
  }
  const key = name.toLowerCase();
  if (RESERVED_HEADERS.has(key)) return `${what} ${name} is set by the MCP transport itself`;
  if (!isHeaderValue(value))
    return `${what} ${name} has a value that is not a valid HTTP header value`;
  headers.set(key, value);
  return undefined;
}

/** Visible ASCII, spaces and tabs, and bytes above 0x7f; no CR, LF or NUL; at most 8 KiB. */
function isHeaderValue(value: string): boolean {
  if (value.length > 8192) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff) return false;
  }
  return true;
}
