/**
 * Keeping secret values out of what the gateway says. Header values never go into a log line, an
 * error or `/status` by construction; but errors from below (the SDK, fetch, a backend's error
 * body) are text the gateway does not control, and a backend may echo a request header. So every
 * such text is scrubbed of the backend's secret values before it is kept or shown.
 */
import { REDACTED } from '@vmcp/registry';

/** The longest reason kept: an error body can be anything, and /status is not a log store. */
const MAX_REASON_LENGTH = 500;

/**
 * `text` with every occurrence of each secret replaced by `[REDACTED]`, cut to a readable
 * length. Longer secrets are replaced first, so that one containing another leaves no part.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
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
  return scrubSecrets(parts.join(': ').replace(/\s+/g, ' '), secrets);
}
