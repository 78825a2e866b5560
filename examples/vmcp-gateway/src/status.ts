/**
 * `GET /status`: what the gateway serves and why, as JSON. Per backend its state (`connected`,
 * `connecting`, `failed`, `excluded`), the reason when it is not connected, and its tool count;
 * the registry version the catalog was built from. Nothing here is secret: reasons were scrubbed
 * when they were made, and URLs are shown without credentials, query or fragment.
 */
import type { BackendConnection } from './backend-connection.js';
import type { Catalog } from './catalog.js';

/** One backend in `/status`. */
export interface BackendStatus {
  readonly id: string;
  readonly state: 'connected' | 'connecting' | 'failed' | 'excluded';
  /** Why it is not connected (for `connecting`: the last failure, if it is retrying). */
  readonly reason?: string;
  /** Tools it contributes to the catalog (0 unless connected). */
  readonly tools: number;
  /** The endpoint, without credentials, query or fragment. */
  readonly url?: string;
  readonly transport?: string;
  /** `failed` only: when the next attempt starts, from the failure. */
  readonly retryInMs?: number;
}

/** The whole `/status` document. */
export interface GatewayStatus {
  readonly registry: {
    /** `sidecar` (`--registry`) or `kubernetes` (`--kubeconfig`). */
    readonly source: string;
    /** True once the registry's first complete content is held. */
    readonly synced: boolean;
    /** The registry's version now (may be ahead of the catalog's for a moment). */
    readonly version: number | null;
    /** Set when following the registry failed: the catalog is the last one built. */
    readonly error?: string;
  };
  readonly catalog: { readonly registryVersion: number | null; readonly tools: number };
  readonly sessions: number;
  readonly backends: readonly BackendStatus[];
}

/** The `/status` document for these parts of a running gateway. */
export function gatewayStatus(parts: {
  readonly registry: GatewayStatus['registry'];
  readonly catalog: Catalog;
  readonly connections: readonly BackendConnection[];
  readonly sessions: number;
}): GatewayStatus {
  return {
    registry: parts.registry,
    catalog: {
      registryVersion: parts.catalog.registryVersion ?? null,
      tools: parts.catalog.tools.length,
    },
    sessions: parts.sessions,
    backends: parts.connections.flatMap((connection) => {
      const status = backendStatus(connection);
      return status === undefined ? [] : [status];
    }),
  };
}

function backendStatus(connection: BackendConnection): BackendStatus | undefined {
  const { state, settings } = connection;
  const endpoint = settings.ok
    ? { url: displayUrl(settings.settings.url), transport: settings.settings.transport }
    : {};
  switch (state.phase) {
    case 'connected':
      return { id: connection.id, state: 'connected', tools: state.tools.length, ...endpoint };
    case 'connecting':
      return {
        id: connection.id,
        state: 'connecting',
        ...(state.reason === undefined ? {} : { reason: state.reason }),
        tools: 0,
        ...endpoint,
      };
    case 'failed':
      return {
        id: connection.id,
        state: 'failed',
        reason: state.reason,
        tools: 0,
        ...endpoint,
        retryInMs: state.retryInMs,
      };
    case 'excluded':
      return { id: connection.id, state: 'excluded', reason: state.reason, tools: 0, ...endpoint };
    case 'closed':
      return undefined;
  }
}

/** `scheme://host:port/path`: what identifies the endpoint, without what may be secret. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
