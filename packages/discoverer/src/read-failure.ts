/**
 * How a failed read is taken. A reader throws when a lookup fails (a missing object is
 * `undefined`, not a failure); the discoverer sorts the failure into one of two kinds:
 *
 * - `transient`: the API server could not or would not answer now (connection refused or reset,
 *   a timeout, 429, a 5xx, a body cut short), or refused the reader itself (401: its credentials
 *   expired or are not accepted now; 403: its RBAC is missing now, say during an API server
 *   restart or while an authorization webhook is down). Nothing is known about the object: a
 *   backend that is served stays exactly as it is, a name not yet served stays absent, and the
 *   read is retried. A control-plane fault must not become a data-plane one.
 * - `definitive`: the API server answered, and the answer is final for this content (another
 *   4xx). The backend is removed, as upstream removes it on a failed lookup, and the read is
 *   retried with backoff.
 *
 * The sort reads structured fields only (`transient`, an HTTP status `code`, a system error
 * `code`, the error's `name`), so it fits any reader: `@vmcp/kube-runtime`'s `ApiError`,
 * client-node's `ApiException`, Node's socket errors, `AbortSignal.timeout`.
 */
export type ReadFailureKind = 'transient' | 'definitive';

/**
 * Why a read failed for a transient reason, for logs and `explain`: the reader's own credentials
 * were refused (`unauthorized`, 401) or its permission is missing (`forbidden`, 403), or the API
 * server could not answer (`unavailable`: everything else).
 */
export type ReadFailureReason = 'unauthorized' | 'forbidden' | 'unavailable';

/** Node's and libuv's codes for a connection that failed or broke, and for timeouts. */
const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ESOCKETTIMEDOUT',
  'ABORT_ERR',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * HTTP statuses that say "not now": request timeout, too many requests, every 5xx, and the
 * refusals of the reader itself (401, 403), which say nothing about the object read.
 */
function isTransientStatus(code: number): boolean {
  return code === 401 || code === 403 || code === 408 || code === 429 || code >= 500;
}

/**
 * Sorts a failed read into `transient` or `definitive` (see {@link ReadFailureKind}). A failure
 * with no structured field to go by (a body that did not parse, an unknown error of the transport)
 * is `transient`: it says nothing about the object, and keeping what was last resolved from
 * valid content is what upstream's cache does through an outage.
 */
export function classifyReadFailure(error: unknown): ReadFailureKind {
  if (typeof error !== 'object' || error === null) return 'transient';
  const { transient, code, name, cause } = error as {
    transient?: unknown;
    code?: unknown;
    name?: unknown;
    cause?: unknown;
  };
  if (typeof transient === 'boolean') return transient ? 'transient' : 'definitive';
  if (typeof code === 'number' && code >= 100 && code < 600) {
    return isTransientStatus(code) ? 'transient' : 'definitive';
  }
  if (typeof code === 'string' && TRANSIENT_SYSTEM_CODES.has(code)) return 'transient';
  if (name === 'TimeoutError' || name === 'AbortError') return 'transient';
  if (cause !== undefined && cause !== error) return classifyReadFailure(cause);
  return 'transient';
}

/**
 * The {@link ReadFailureReason} of a failed read: the first HTTP status `code` found on the error
 * or its causes decides (401 `unauthorized`, 403 `forbidden`); anything else is `unavailable`.
 */
export function readFailureReason(error: unknown): ReadFailureReason {
  for (let at = error, depth = 0; typeof at === 'object' && at !== null && depth < 8; depth++) {
    const { code, cause } = at as { code?: unknown; cause?: unknown };
    if (code === 401) return 'unauthorized';
    if (code === 403) return 'forbidden';
    if (typeof code === 'number') return 'unavailable';
    at = cause;
  }
  return 'unavailable';
}

/**
 * Why a read failed, from structured fields only (an API status code and reason, or a system
 * error code): never the error's free text, so that nothing read can leak into a message.
 */
export function readFailureCause(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const { code, reason, name } = error as { code?: unknown; reason?: unknown; name?: unknown };
  if (typeof code === 'number') {
    return typeof reason === 'string' && /^[A-Za-z]{1,64}$/.test(reason)
      ? ` (${code} ${reason})`
      : ` (${code})`;
  }
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return ` (${code})`;
  if (name === 'TimeoutError') return ' (timed out)';
  return '';
}
