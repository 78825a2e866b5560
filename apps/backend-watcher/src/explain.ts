import type { KubeConfig } from '@kubernetes/client-node';
import type { DiscoveryReader, KubeObjectLike, WorkloadKind } from '@vmcp/discoverer';
import {
  isNotFound,
  KubeClient,
  type KubeObject,
  type Logger,
  ResourceClient,
  type ResourceRef,
} from '@vmcp/kube-runtime';
import { BackendReconciler, type Decision, parseGroupRef, RESOURCES } from '@vmcp/reconciler';
import { createDynamicRegistry, redactBackend } from '@vmcp/registry';

/** Why one name is or is not a backend of the group. */
export interface Explanation {
  name: string;
  namespace: string;
  group: string;
  decision: Decision;
  /** The backend, secrets redacted, when it is one. */
  backend?: Record<string, unknown>;
  /** Why the conversion failed or skipped, when it did. */
  detail?: string;
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
}): Promise<Explanation> {
  const group = parseGroupRef(options.groupRef, options.namespace);
  const client = new KubeClient(options.kubeConfig);
  try {
    const reconciler = new BackendReconciler({
      namespace: options.namespace,
      group,
      registry: createDynamicRegistry(),
      reader: directReader(client, options.namespace),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    const { decision, outcome } = await reconciler.explain(options.name);
    const base = { name: options.name, namespace: options.namespace, group, decision };
    if (outcome?.kind === 'backend') {
      return { ...base, backend: { ...redactBackend(outcome.backend) } };
    }
    if (outcome?.kind === 'skip') return { ...base, detail: outcome.message };
    if (outcome?.kind === 'error') return { ...base, detail: outcome.error.message };
    if (decision.action === 'remove' && decision.reason === 'skipped') {
      return { ...base, detail: decision.outcome.message };
    }
    if (decision.action === 'remove-and-retry') return { ...base, detail: decision.error.message };
    return base;
  } finally {
    await client.close();
  }
}

/** True when the name is served as a backend. */
export function isBackend(explanation: Explanation): boolean {
  return explanation.backend !== undefined;
}

/** Human-readable lines for the terminal. */
export function formatExplanation(e: Explanation): string {
  const d = e.decision;
  const where = `${e.namespace}/${e.name}`;
  const lines: string[] = [];
  const kind = 'kind' in d ? d.kind : undefined;
  if (d.action === 'remove' && d.reason === 'not-found') {
    lines.push(
      `${where}: not a backend: no MCPServer, MCPRemoteProxy or MCPServerEntry has this name`,
    );
  } else if (d.action === 'remove' && d.reason === 'other-group') {
    lines.push(
      `${kind} ${where}: not a backend of group "${e.group}": it belongs to ${
        d.group === undefined ? 'no group' : `group "${d.group}"`
      }`,
    );
  } else if (d.action === 'remove' && d.reason === 'skipped') {
    lines.push(
      `${kind} ${where}: not a backend (${d.outcome.reason}): ${e.detail ?? d.outcome.message}`,
    );
  } else if (d.action === 'remove-and-retry') {
    lines.push(
      `${kind} ${where}: not a backend now (lookup failed, the watcher retries): ${e.detail ?? ''}`,
    );
  } else if (e.backend !== undefined) {
    lines.push(`${kind} ${where}: a backend of group "${e.group}"`);
  } else {
    lines.push(`${kind} ${where}: not a backend: ${e.detail ?? 'no backend produced'}`);
  }
  if ('shadowed' in d && d.shadowed.length > 0) {
    lines.push(
      `  shadowed: ${d.shadowed.join(', ')} named "${e.name}" ${
        d.shadowed.length === 1 ? 'is' : 'are'
      } ignored; ${kind} takes precedence (MCPServer, then MCPRemoteProxy, then MCPServerEntry)`,
    );
  }
  if (e.backend !== undefined) {
    lines.push('  backend (secrets redacted):');
    for (const line of JSON.stringify(e.backend, null, 2).split('\n')) lines.push(`    ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A reader that GETs each object from the API server (Secrets included), caching nothing. */
export function directReader(client: KubeClient, namespace: string): DiscoveryReader {
  const clients = new Map<string, ResourceClient>();
  const resource = (ref: ResourceRef): ResourceClient => {
    let found = clients.get(ref.kind);
    if (found === undefined) {
      found = new ResourceClient(client, ref, namespace);
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
