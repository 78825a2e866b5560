/**
 * Keeping secret values out of what the gateway says. Header values never go into a log line, an
 * error or `/status` by construction; but errors from below (the SDK, fetch, a backend's error
 * body) are text the gateway does not control, and a backend may echo a request header. So every
 * such text is scrubbed of the backend's secret values before it is kept or shown.
 */
import { REDACTED } from '@vmcp/registry';

/** The longest reason kept: an error body can be anything, and /status is not a log store. */
const MAX_REASON_LENGTH = 500;

/** `Bearer abc`, `Basic abc`, `Token abc`: a scheme, whitespace, then the credential itself. */
const SCHEME_AND_CREDENTIAL = /^[A-Za-z][A-Za-z0-9._~+-]*\s+(\S.*)$/s;

/**
 * A header value and, for one written as `<scheme> <credential>` (as `Authorization` is), the
 * credential alone: a backend's error says `invalid token abc`, not `invalid token Bearer abc`.
 */
function secretParts(secret: string): string[] {
  const credential = SCHEME_AND_CREDENTIAL.exec(secret)?.[1]?.trim();
  return credential === undefined || credential === '' ? [secret] : [secret, credential];
}

/**
 * `text` with every occurrence of each secret (and of the credential in one written
 * `<scheme> <credential>`) replaced by `[REDACTED]`, cut to a readable length. Longer secrets
 * are replaced first, so that one containing another leaves no part.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  const parts = secrets.flatMap(secretParts);
  for (const secret of parts.sort((a, b) => b.length - a.length)) {
    if (secret !== '') scrubbed = scrubbed.split(secret).join(REDACTED);
  }
  return scrubbed.length > MAX_REASON_LENGTH
    ? `${scrubbed.slice(0, MAX_REASON_LENGTH)}…`
    : scrubbed;
}

/**
 * An error as one line for a reason: its message and those of its causes (fetch puts the TLS or
 * socket error in `cause`), with their codes, scrubbed of `secrets`.
 */
export function describeFailure(error: unknown, secrets: readonly string[]): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    const code = (current as { code?: unknown }).code;
    parts.push(
      typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message,
    );
    current = (current as { cause?: unknown }).cause;
  }
  // Scrubbed first: a secret may hold whitespace that the one-line form would change.
  return scrubSecrets(parts.join(': '), secrets).replace(/\s+/g, ' ');
}
