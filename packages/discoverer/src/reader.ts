import type { ObjectMeta } from './object-meta.js';

/**
 * Any object as read from the API server or a cache, before the discoverer checked its shape.
 * The discoverer never trusts these types: it reads each field through a runtime check.
 */
export interface KubeObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** The three kinds that can become backends. */
export type WorkloadKind = 'MCPServer' | 'MCPRemoteProxy' | 'MCPServerEntry';

/** In upstream's precedence order: when two kinds share a name, the first one wins. */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = Object.freeze([
  'MCPServer',
  'MCPRemoteProxy',
  'MCPServerEntry',
]);

/**
 * What the discoverer reads. In the reconciler the workload, auth config and ConfigMap getters
 * read the informer caches, and `getSecret` makes a direct API GET (Secrets are never cached).
 * Every method is async so that either source fits. A missing object is `undefined`; a failed
 * lookup (an API error) throws.
 */
export interface DiscoveryReader {
  getWorkload(
    kind: WorkloadKind,
    namespace: string,
    name: string,
  ): Promise<KubeObjectLike | undefined>;
  listWorkloads(kind: WorkloadKind, namespace: string): Promise<KubeObjectLike[]>;
  getExternalAuthConfig(namespace: string, name: string): Promise<KubeObjectLike | undefined>;
  getConfigMap(namespace: string, name: string): Promise<KubeObjectLike | undefined>;
  getSecret(namespace: string, name: string): Promise<KubeObjectLike | undefined>;
}

/**
 * A reader over a fixed set of objects (by `kind`, `metadata.namespace`, `metadata.name`): for
 * tests and for static discovery from manifests.
 */
export function createObjectReader(objects: Iterable<KubeObjectLike>): DiscoveryReader {
  const byKind = new Map<string, KubeObjectLike[]>();
  for (const object of objects) {
    const kind = object.kind ?? '';
    byKind.set(kind, [...(byKind.get(kind) ?? []), object]);
  }
  const find = (kind: string, namespace: string, name: string) =>
    (byKind.get(kind) ?? []).find(
      (o) => o.metadata?.name === name && (o.metadata?.namespace ?? namespace) === namespace,
    );
  return {
    getWorkload: async (kind, namespace, name) => find(kind, namespace, name),
    listWorkloads: async (kind, namespace) =>
      (byKind.get(kind) ?? []).filter((o) => (o.metadata?.namespace ?? namespace) === namespace),
    getExternalAuthConfig: async (namespace, name) =>
      find('MCPExternalAuthConfig', namespace, name),
    getConfigMap: async (namespace, name) => find('ConfigMap', namespace, name),
    getSecret: async (namespace, name) => find('Secret', namespace, name),
  };
}
