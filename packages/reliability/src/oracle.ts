/**
 * An independent oracle: the backends a group should have, computed from objects read straight
 * from the API server by a separate, deliberately plain implementation of the rules (the upstream
 * spec, sections 3 and 6), sharing no code with `@vmcp/discoverer`. If both agree after chaos,
 * the watcher converged to the truth; if they differ, one of them is wrong and the diff says where.
 */
import type { Backend } from '@vmcp/registry';
import type { Kind } from './resources.js';

/** An object as listed from the API server. */
export interface Obj {
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** Everything the oracle reads, from plain lists of one namespace. */
export type ClusterState = { namespace: string } & Record<Kind, Obj[]>;

const SYSTEM_PREFIXES = [
  'kubectl.kubernetes.io/',
  'kubernetes.io/',
  'deployment.kubernetes.io/',
  'k8s.io/',
];
const HEALTH: Record<string, Record<string, Backend['healthStatus']>> = {
  MCPServer: {
    Ready: 'healthy',
    Failed: 'unhealthy',
    Terminating: 'unhealthy',
    Stopped: 'unhealthy',
  },
  MCPRemoteProxy: { Ready: 'healthy', Failed: 'unhealthy', Terminating: 'unhealthy' },
  MCPServerEntry: { Valid: 'healthy', Failed: 'unhealthy' },
};

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
/** A Go map lookup: own keys only (`constructor` is not a key of `{}`). */
const own = <T>(map: Record<string, T> | undefined, key: string): T | undefined =>
  map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
const get = (object: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (o, key) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined),
      object,
    );

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function groupOf(object: Obj): string {
  const ref = object.spec?.groupRef;
  return typeof ref === 'string' ? ref : str(get(ref, 'name'));
}

function transportOf(kind: string, object: Obj): Backend['transportType'] {
  const raw = str(object.spec?.transport).toLowerCase();
  const known = ['stdio', 'sse', 'streamable-http', 'inspector'].includes(raw)
    ? raw
    : 'streamable-http';
  if (kind !== 'MCPServer')
    return known === 'stdio' || known === 'inspector'
      ? 'streamable-http'
      : (known as Backend['transportType']);
  if (known === 'inspector') return 'unknown';
  if (known !== 'stdio') return known as Backend['transportType'];
  const mode = str(object.spec?.proxyMode) || 'streamable-http';
  return mode === 'sse' || mode === 'streamable-http' || mode === 'stdio' ? mode : 'unknown';
}

function decode(value: string | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/** The auth of a workload: `null` when it cannot be resolved (then it is no backend). */
function authOf(
  state: ClusterState,
  object: Obj,
): Pick<Backend, 'authConfig' | 'authConfigRef'> | null {
  // Only an absent ref means no auth; a ref naming nothing is looked up and not found.
  if (get(object.spec, 'externalAuthConfigRef') == null) return {};
  const ref = str(get(object.spec, 'externalAuthConfigRef.name'));
  if (ref === '') return null;
  const config = state.MCPExternalAuthConfig.find((c) => c.metadata.name === ref);
  if (!config) return null;
  const type = str(config.spec?.type);
  if (type === 'unauthenticated')
    return { authConfig: { type: 'unauthenticated' }, authConfigRef: ref };
  if (type === 'headerInjection') {
    const headerName = str(get(config.spec, 'headerInjection.headerName'));
    const secretName = str(get(config.spec, 'headerInjection.valueSecretRef.name'));
    const key = str(get(config.spec, 'headerInjection.valueSecretRef.key'));
    const secret = state.Secret.find((s) => s.metadata.name === secretName);
    const value = decode(own(secret?.data, key));
    if (!headerName || !secret || value === undefined || value === '') return null;
    return {
      authConfig: { type: 'header_injection', headerName, headerValue: value },
      authConfigRef: ref,
    };
  }
  // The chaos generator uses only the two types above; anything else is out of the oracle's scope.
  throw new Error(`oracle: auth type ${type} is not modelled`);
}

function metadataOf(
  object: Obj,
  namespace: string,
  group: string,
  workloadType: string,
  phase: string,
  extra: Record<string, string>,
): Record<string, string> {
  const annotations = Object.entries(object.metadata.annotations ?? {}).filter(
    ([key]) => !SYSTEM_PREFIXES.some((prefix) => key.startsWith(prefix)),
  );
  // fromEntries defines keys (a `__proto__` annotation stays data), and later entries win.
  return Object.fromEntries([
    ...annotations,
    ['tool_type', 'mcp'],
    ['workload_type', workloadType],
    ['workload_status', phase],
    ...Object.entries(extra),
    ['namespace', namespace],
    ['group', group],
  ]);
}

function backendOf(
  state: ClusterState,
  kind: string,
  object: Obj,
  group: string,
): Backend | undefined {
  if (groupOf(object) !== group) return undefined;
  return kind === 'MCPServerEntry'
    ? entryOf(state, object, group)
    : workloadOf(state, kind, object, group);
}

/** An MCPServer or MCPRemoteProxy: URL from status, auth from its ref. */
function workloadOf(
  state: ClusterState,
  kind: string,
  object: Obj,
  group: string,
): Backend | undefined {
  const name = object.metadata.name ?? '';
  const phase = str(object.status?.phase);
  const url = str(object.status?.url);
  if (!isHttpUrl(url)) return undefined;
  const auth = authOf(state, object);
  if (auth === null) return undefined;
  return {
    id: name,
    name,
    baseUrl: url,
    transportType: transportOf(kind, object),
    healthStatus: own(own(HEALTH, kind), phase) ?? 'unknown',
    ...auth,
    metadata:
      kind === 'MCPServer'
        ? metadataOf(object, state.namespace, group, 'mcp_server', phase, {})
        : metadataOf(object, state.namespace, group, 'remote_proxy', phase, {
            remote_url: str(object.spec?.remoteUrl),
          }),
  };
}

/** An MCPServerEntry: only when Valid, URL from spec, its CA bundle and auth resolved. */
function entryOf(state: ClusterState, object: Obj, group: string): Backend | undefined {
  const name = object.metadata.name ?? '';
  const phase = str(object.status?.phase);
  if (phase !== 'Valid') return undefined;
  const url = str(object.spec?.remoteUrl);
  if (!isHttpUrl(url)) return undefined;
  const caBundleData = caBundleOf(state, object);
  if (caBundleData === null) return undefined;
  const auth = authOf(state, object);
  if (auth === null) return undefined;
  return {
    id: name,
    name,
    baseUrl: url,
    transportType: transportOf('MCPServerEntry', object),
    type: 'entry',
    ...(caBundleData === undefined ? {} : { caBundleData }),
    healthStatus: own(HEALTH.MCPServerEntry, phase) ?? 'unknown',
    ...auth,
    metadata: metadataOf(object, state.namespace, group, 'server_entry', phase, {
      remote_url: url,
    }),
  };
}

/** An entry's CA: none without a configMapRef (`caBundleRef: {}`, as upstream); null if unresolved. */
function caBundleOf(state: ClusterState, object: Obj): string | undefined | null {
  if (get(object.spec, 'caBundleRef.configMapRef') == null) return undefined;
  const cmName = str(get(object.spec, 'caBundleRef.configMapRef.name'));
  const key = str(get(object.spec, 'caBundleRef.configMapRef.key')) || 'ca.crt';
  const configMap = state.ConfigMap.find((c) => cmName !== '' && c.metadata.name === cmName);
  return own(configMap?.data, key) ?? null;
}

/**
 * The backends of `group`, sorted by id. Only the group's workloads compete for a name (a
 * same-named workload of another group is ignored); among them MCPServer wins, then
 * MCPRemoteProxy.
 */
export function expectedBackends(state: ClusterState, group: string): Backend[] {
  const winners = new Map<string, { kind: string; object: Obj }>();
  for (const kind of ['MCPServerEntry', 'MCPRemoteProxy', 'MCPServer'] as const) {
    for (const object of state[kind]) {
      if (groupOf(object) === group) winners.set(object.metadata.name ?? '', { kind, object });
    }
  }
  const backends: Backend[] = [];
  for (const { kind, object } of winners.values()) {
    const backend = backendOf(state, kind, object, group);
    if (backend) backends.push(backend);
  }
  return backends.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Field-by-field differences between two backend sets (empty when equal). */
export function diffBackends(actual: readonly Backend[], expected: readonly Backend[]): string[] {
  const canonical = canonicalJson;
  const byId = (list: readonly Backend[]) => new Map(list.map((b) => [b.id, b]));
  const a = byId(actual);
  const e = byId(expected);
  const diffs: string[] = [];
  for (const [id, backend] of e) {
    const got = a.get(id);
    if (!got) diffs.push(`missing ${id}: expected ${canonical(backend)}`);
    else if (canonical(got) !== canonical(backend))
      diffs.push(`differs ${id}:\n  got      ${canonical(got)}\n  expected ${canonical(backend)}`);
  }
  for (const id of a.keys()) if (!e.has(id)) diffs.push(`stale ${id}: served but not expected`);
  return diffs;
}

/** JSON with keys sorted at every level: equal for equal content, whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value as object)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
