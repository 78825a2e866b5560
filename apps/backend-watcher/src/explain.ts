import type { KubeConfig } from '@kubernetes/client-node';
import type {
  ConversionOutcome,
  DiscoveryReader,
  KubeObjectLike,
  WorkloadKind,
} from '@vmcp/discoverer';
import {
  isNotFound,
  KubeClient,
  type KubeObject,
  type Logger,
  ResourceClient,
  type ResourceRef,
} from '@vmcp/kube-runtime';
import {
  authSourceOf,
  BackendReconciler,
  type BackendWatcher,
  DEFAULT_READ_TIMEOUT_MS,
  type Decision,
  type FailingRead,
  type OutgoingAuth,
  parseGroupRef,
  RESOURCES,
} from '@vmcp/reconciler';
import { createDynamicRegistry, redactBackend } from '@vmcp/registry';

/**
 * Why one name is or is not a backend of the group. Plain JSON (errors as their messages), so
 * that the sidecar can serve it and `explain --sidecar` print it.
 */
export interface Explanation {
  name: string;
  namespace: string;
  group: string;
  /** The decision; an `error` in it is `{ message }`. */
  decision: JsonDecision;
  /** The backend, secrets redacted, when it is one. */
  backend?: Record<string, unknown>;
  /**
   * Where the backend's auth comes from, when it is one: `discovered` (its own
   * MCPExternalAuthConfig), the path of the vMCP config's strategy (`outgoingAuth.default`,
   * `outgoingAuth.backends.<name>`), or `none`.
   */
  authSource?: string;
  /** Why the conversion failed or skipped, when it did. */
  detail?: string;
  /**
   * The running watcher's failing read of this name, when it has one: with `served`, the backend
   * it serves is kept as resolved at `lastResolvedAt` (epoch ms).
   */
  failing?: FailingRead;
  /**
   * How the answer was made. `fresh`: decided now, reading Secrets and CA ConfigMaps from the API
   * server. `held`: from what the running sidecar holds, with no read (a request without the
   * API token): its last decision for the name, made at `decidedAt`, or, for a name it has not
   * decided yet, a decision from its caches alone.
   */
  source?: 'fresh' | 'held';
  /** With `held`: when the sidecar made the decision (epoch ms). */
  decidedAt?: number;
}

/** A {@link Decision} as JSON: `error` becomes `{ message }`. */
export type JsonDecision = DistributiveJson<Decision>;
type DistributiveJson<D> = D extends { error: Error }
  ? Omit<D, 'error'> & { error: { message: string } }
  : D;

/** What a reconciler's or watcher's `explain` returns. */
interface Explained {
  decision: Decision;
  outcome?: ConversionOutcome;
  failing?: FailingRead;
  decidedAt?: number;
}

/** The explanation of one name from a reconciler's answer. */
function explanationOf(
  base: { name: string; namespace: string; group: string; source: 'fresh' | 'held' },
  { decision, outcome, failing, decidedAt }: Explained,
  outgoingAuth: OutgoingAuth | undefined,
): Explanation {
  const json = {
    ...base,
    decision: jsonDecision(decision),
    ...(failing ? { failing } : {}),
    ...(decidedAt !== undefined ? { decidedAt } : {}),
  };
  if (outcome?.kind === 'backend') {
    return {
      ...json,
      backend: { ...redactBackend(outcome.backend) },
      authSource: authSourceOf(outcome.backend, outgoingAuth),
    };
  }
  if (outcome?.kind === 'skip') return { ...json, detail: outcome.message };
  if (outcome?.kind === 'error' || outcome?.kind === 'unavailable') {
    return { ...json, detail: outcome.error.message };
  }
  if (decision.action === 'remove' && decision.reason === 'skipped') {
    return { ...json, detail: decision.outcome.message };
  }
  if (decision.action === 'remove-and-retry' || decision.action === 'keep-and-retry') {
    return { ...json, detail: decision.error.message };
  }
  return json;
}

function jsonDecision(decision: Decision): JsonDecision {
  return 'error' in decision
    ? ({ ...decision, error: { message: decision.error.message } } as JsonDecision)
    : decision;
}

/**
 * Explains one name through a running watcher: the sidecar's `GET /v1/explain/{name}`. `fresh`
 * reads the cluster (bounded by `signal`); otherwise nothing is read.
 */
export async function explainWithWatcher(
  watcher: BackendWatcher,
  name: string,
  options: { fresh: boolean; signal: AbortSignal },
): Promise<Explanation> {
  const source = options.fresh ? 'fresh' : 'held';
  const base = { name, namespace: watcher.namespace, group: watcher.group, source } as const;
  return explanationOf(base, await watcher.explain(name, options), watcher.outgoingAuth);
}

/**
 * Explains one name by asking the sidecar running at `url` (`GET /v1/explain/{name}`), so that
 * its kept backends and failing reads are included. The token unlocks nothing secret here (an
 * explanation is always redacted); it is sent because the sidecar refuses a wrong one.
 */
export async function explainFromSidecar(options: {
  url: string;
  name: string;
  apiToken?: string | undefined;
  timeoutMs?: number;
}): Promise<Explanation> {
  const url = new URL(`/v1/explain/${encodeURIComponent(options.name)}`, options.url);
  const response = await fetch(url, {
    headers: options.apiToken ? { authorization: `Bearer ${options.apiToken}` } : {},
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const body = (await response.json().catch(() => undefined)) as
    | Explanation
    | { error?: { message?: string } }
    | undefined;
  if (!response.ok) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message;
    throw new Error(
      `the sidecar at ${options.url} answered ${response.status}${message ? `: ${message}` : ''}`,
    );
  }
  return body as Explanation;
}

/**
 * Explains one name through the same code path as the watcher (the reconciler's decision and
 * the discoverer's conversion), reading with direct GETs: it needs no list or watch permission
 * beyond what the watcher has, and starts no informer.
 */
export async function explain(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  groupRef: string;
  name: string;
  logger?: Logger;
  /** Bound of each read. Default 5 s, as the watcher's. */
  readTimeoutMs?: number;
  /** The vMCP config's `outgoingAuth`, applied as the watcher applies it. */
  outgoingAuth?: OutgoingAuth;
}): Promise<Explanation> {
  const group = parseGroupRef(options.groupRef, options.namespace);
  const client = new KubeClient(options.kubeConfig);
  try {
    const reconciler = new BackendReconciler({
      namespace: options.namespace,
      group,
      registry: createDynamicRegistry(),
      reader: directReader(client, options.namespace, options.readTimeoutMs),
      ...(options.logger ? { logger: options.logger } : {}),
      outgoingAuth: () => options.outgoingAuth,
    });
    const base = {
      name: options.name,
      namespace: options.namespace,
      group,
      source: 'fresh' as const,
    };
    return explanationOf(base, await reconciler.explain(options.name), options.outgoingAuth);
  } finally {
    await client.close();
  }
}

/**
 * True when the name is served as a backend: it converts to one now, or the running watcher keeps
 * the one it last resolved while a read fails for a transient reason.
 */
export function isBackend(explanation: Explanation): boolean {
  return explanation.backend !== undefined || explanation.failing?.served === true;
}

/** Human-readable lines for the terminal. */
export function formatExplanation(e: Explanation): string {
  const d = e.decision;
  const kind = 'kind' in d ? d.kind : undefined;
  const lines = [headline(e), ...failingLines(e), ...sourceLines(e)];
  if ('shadowed' in d && d.shadowed.length > 0) {
    lines.push(
      `  shadowed: ${d.shadowed.join(', ')} named "${e.name}" ${
        d.shadowed.length === 1 ? 'is' : 'are'
      } ignored; ${kind} takes precedence (MCPServer, then MCPRemoteProxy, then MCPServerEntry)`,
    );
  }
  lines.push(...otherGroupLines(e));
  if (e.authSource !== undefined) lines.push(`  auth: ${authLine(e.authSource)}`);
  if (e.backend !== undefined) {
    lines.push('  backend (secrets redacted):');
    for (const line of JSON.stringify(e.backend, null, 2).split('\n')) lines.push(`    ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Where the auth comes from, in words. */
function authLine(source: string): string {
  if (source === 'discovered') return 'its own, from its externalAuthConfigRef';
  if (source === 'none') return 'none';
  return `${source} of the vMCP config (--config)`;
}

/** The first line: what the decision means for the name. */
function headline(e: Explanation): string {
  const d = e.decision;
  const where = `${e.namespace}/${e.name}`;
  const kind = 'kind' in d ? d.kind : undefined;
  switch (d.action) {
    case 'remove':
      return removedHeadline(e, d, `${kind} ${where}`);
    case 'remove-and-retry':
      return `${kind} ${where}: not a backend now (lookup failed, the watcher retries): ${e.detail ?? ''}`;
    case 'keep-and-retry':
      return `${kind ?? 'workload'} ${where}: cannot be resolved now (a read fails for a transient reason; the watcher keeps what it serves and retries): ${e.detail ?? ''}`;
    default:
      return e.backend !== undefined
        ? `${kind} ${where}: a backend of group "${e.group}"`
        : `${kind} ${where}: not a backend: ${e.detail ?? 'no backend produced'}`;
  }
}

/** The first line for a name that is not a backend; `what` is its kind and place. */
function removedHeadline(
  e: Explanation,
  d: Extract<Explanation['decision'], { action: 'remove' }>,
  what: string,
): string {
  const where = `${e.namespace}/${e.name}`;
  if (d.reason === 'not-found') {
    return `${where}: not a backend: no MCPServer, MCPRemoteProxy or MCPServerEntry has this name`;
  }
  if (d.reason === 'other-group') {
    const owner = d.group === undefined ? 'no group' : `group "${d.group}"`;
    return `${what}: not a backend of group "${e.group}": it belongs to ${owner}`;
  }
  return `${what}: not a backend (${d.outcome.reason}): ${e.detail ?? d.outcome.message}`;
}

/**
 * The same-named workloads of other groups, which exist and are ignored (only the watched group's
 * workloads compete for a name). Left out when the headline already names the only one.
 */
function otherGroupLines(e: Explanation): string[] {
  const d = e.decision;
  if (!('otherGroups' in d) || d.otherGroups.length === 0) return [];
  if (d.action === 'remove' && d.reason === 'other-group' && d.otherGroups.length === 1) return [];
  const others = d.otherGroups.map(
    (other) =>
      `${other.kind} of ${other.group === undefined ? 'no group' : `group "${other.group}"`}`,
  );
  return [
    `  other groups: ${others.join(', ')} named "${e.name}" ${
      others.length === 1 ? 'exists and is' : 'exist and are'
    } ignored; only workloads of group "${e.group}" count`,
  ];
}

/** How a sidecar's answer was made, when it read nothing. */
function sourceLines(e: Explanation): string[] {
  if (e.source !== 'held') return [];
  const how =
    e.decidedAt === undefined
      ? 'decided now from its caches, without reading Secrets or ConfigMaps'
      : `its last decision, made at ${new Date(e.decidedAt).toISOString()}`;
  return [
    `  from what the sidecar holds (${how}); with the API token (--api-token-file) it decides afresh`,
  ];
}

/** What the running watcher keeps while the name's reads fail, or where to ask it. */
function failingLines(e: Explanation): string[] {
  const failing = e.failing;
  const at = (ms: number) => new Date(ms).toISOString();
  if (failing === undefined) {
    return e.decision.action === 'keep-and-retry'
      ? [
          '  a running watcher serves the backend it last resolved, if any: ask it with --sidecar URL',
        ]
      : [];
  }
  // The watcher's own credentials (401) or permission (403) refused: the operator's to fix.
  const refused = failing.reason === 'unavailable' ? '' : ` (${failing.reason})`;
  if (!failing.served) {
    return [
      `  not served: read failing${refused} since ${at(failing.failingSince)}: ${failing.cause}`,
    ];
  }
  const resolved =
    failing.lastResolvedAt === undefined
      ? 'before this process started'
      : at(failing.lastResolvedAt);
  const attempts = `${failing.attempts} ${failing.attempts === 1 ? 'attempt' : 'attempts'}`;
  return [
    `  kept: last resolved at ${resolved}, read failing${refused}: ${failing.cause} (since ${at(failing.failingSince)}, ${attempts})`,
  ];
}

/**
 * A reader that GETs each object from the API server (Secrets included), caching nothing; each
 * read bounded by `readTimeoutMs`.
 */
export function directReader(
  client: KubeClient,
  namespace: string,
  readTimeoutMs = DEFAULT_READ_TIMEOUT_MS,
): DiscoveryReader {
  const clients = new Map<string, ResourceClient>();
  const resource = (ref: ResourceRef): ResourceClient => {
    let found = clients.get(ref.kind);
    if (found === undefined) {
      found = new ResourceClient(client, ref, namespace, { getTimeoutMs: readTimeoutMs });
      clients.set(ref.kind, found);
    }
    return found;
  };
  const get = async (ref: ResourceRef, name: string): Promise<KubeObjectLike | undefined> => {
    try {
      return (await resource(ref).get(name)) as KubeObjectLike;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  return {
    getWorkload: (kind: WorkloadKind, _namespace, name) => get(RESOURCES[kind], name),
    listWorkloads: async (kind: WorkloadKind) =>
      (await resource(RESOURCES[kind]).list()).items.map(
        (item: KubeObject) => item as KubeObjectLike,
      ),
    getExternalAuthConfig: (_namespace, name) => get(RESOURCES.MCPExternalAuthConfig, name),
    getConfigMap: (_namespace, name) => get(RESOURCES.ConfigMap, name),
    getSecret: (_namespace, name) => get(RESOURCES.Secret, name),
  };
}
