import type { ConnectionInput } from './connection.js';
import { RegistryClientError } from './errors.js';

/** The sidecar's paths the client asks. */
export type Endpoint = '/v1/events' | '/v1/backends';

/** An answer's status line, and its `Retry-After` in ms when it had a valid one. */
export interface Answer {
  readonly status: number;
  readonly retryAfterMs?: number | undefined;
}

/**
 * What an answer other than 200 means, as a connection input; undefined for a 200. Pure, so that
 * the rules are one table:
 * - 401 and 403 fail the client for good: a token or a proxy that retrying cannot change;
 * - another 4xx of `/v1/events` (404, 405: a proxy that does not route streams, an older
 *   server) is `streamRefused`: the long-poll in `auto` mode, a failure otherwise;
 * - another 4xx of `/v1/backends` fails: this is not the sidecar's URL;
 * - 408, 429, 5xx and anything else are retried, after the server's `Retry-After` if longer.
 */
export function refusalOf(
  answer: Answer,
  endpoint: Endpoint,
  sidecar: { url: string; hasToken: boolean },
): ConnectionInput | undefined {
  const { status } = answer;
  if (status === 200) return undefined;
  const where = `${sidecar.url}${endpoint.slice(1)} answered ${status}`;
  if (status === 401) {
    const why = sidecar.hasToken
      ? "the token does not match the sidecar's --api-token-file"
      : 'it wants credentials (a proxy in front of the sidecar?)';
    return rejected('Unauthorized', `${where}: ${why}`, status);
  }
  if (status === 403) {
    return rejected(
      'Rejected',
      `${where}: something in front of the sidecar refuses this client`,
      status,
    );
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    const error = new RegistryClientError(
      'Rejected',
      `${where}: is this the sidecar's URL?`,
      status,
    );
    return endpoint === '/v1/events'
      ? { type: 'streamRefused', error }
      : { type: 'rejected', error };
  }
  return answer.retryAfterMs === undefined
    ? { type: 'unreachable' }
    : { type: 'unreachable', retryAfterMs: answer.retryAfterMs };
}

function rejected(
  reason: 'Unauthorized' | 'Rejected',
  message: string,
  status: number,
): ConnectionInput {
  return { type: 'rejected', error: new RegistryClientError(reason, message, status) };
}
