import type { Backend } from '@vmcp/registry';

/**
 * What the sidecar sends, checked before anything is taken from it: a malformed answer is a
 * clear {@link ProtocolError} (which never quotes the bytes: they may carry secret values), never
 * a crash or a half-applied change.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/**
 * The sidecar's long-poll (`GET /v1/backends?watch=N&timeoutSeconds=S`): `S` is an integer
 * from `min` to `max` seconds, `default` when absent. The sidecar refuses anything else with a
 * 400, so the client refuses it at `connectRegistry`. Its `maxTimeoutSeconds` default and its
 * OpenAPI document state the same bounds; a test of this package pins them together.
 */
export const LONG_POLL_TIMEOUT_SECONDS = Object.freeze({ min: 1, max: 300, default: 30 });

/** A `heartbeat` event: the sidecar's version, whether it is ready, and how often it beats. */
export interface Heartbeat {
  version: number;
  ready: boolean;
  intervalMs: number;
}

/** A `snapshot` event or a `/v1/backends` answer: the whole list at a version. */
export interface BackendList {
  version: number;
  backends: Backend[];
}

/** A `change` event: what changed from the version before. */
export interface Change {
  version: number;
  upserted: Backend[];
  removed: string[];
}

/** A heartbeat's data, checked; a {@link ProtocolError} otherwise. */
export function parseHeartbeat(data: string): Heartbeat {
  const value = parseObject(data, 'heartbeat');
  const { ready, intervalMs } = value;
  if (typeof ready !== 'boolean') throw new ProtocolError('a heartbeat without "ready"');
  if (!Number.isSafeInteger(intervalMs) || (intervalMs as number) <= 0) {
    throw new ProtocolError('a heartbeat without a positive "intervalMs"');
  }
  return { version: versionOf(value, 'heartbeat'), ready, intervalMs: intervalMs as number };
}

/** A list's data (`what` names it in the error: `snapshot`, `list`), checked. */
export function parseList(data: string, what: string): BackendList {
  const value = parseObject(data, what);
  return { version: versionOf(value, what), backends: backendsOf(value.backends, what) };
}

/** A change's data, checked. */
export function parseChange(data: string): Change {
  const value = parseObject(data, 'change');
  const { removed } = value;
  if (!Array.isArray(removed) || !removed.every((id) => typeof id === 'string' && id !== '')) {
    throw new ProtocolError('a change whose "removed" is not a list of ids');
  }
  return {
    version: versionOf(value, 'change'),
    upserted: backendsOf(value.upserted, 'change'),
    removed,
  };
}

function parseObject(data: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new ProtocolError(`a ${what} that is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(`a ${what} that is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function versionOf(value: Record<string, unknown>, what: string): number {
  const { version } = value;
  if (!Number.isSafeInteger(version) || (version as number) < 0) {
    throw new ProtocolError(`a ${what} without a registry version`);
  }
  return version as number;
}

function backendsOf(value: unknown, what: string): Backend[] {
  if (!Array.isArray(value)) throw new ProtocolError(`a ${what} without a list of backends`);
  for (const backend of value) {
    const id = (backend as { id?: unknown } | null)?.id;
    if (typeof backend !== 'object' || Array.isArray(backend) || typeof id !== 'string' || !id) {
      throw new ProtocolError(`a ${what} with a backend that has no id`);
    }
  }
  return value as Backend[];
}
