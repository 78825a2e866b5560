import {
  caBundleConfigMapName,
  externalAuthConfigName,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadGroup,
} from '@vmcp/discoverer';
import type { KubeObject, ObjectKey, ReadonlyStore } from '@vmcp/kube-runtime';

/**
 * The map functions of the BackendWatcher's controller: which reconcile requests (workload
 * names) a change of a watched object causes. Pure functions over the informer caches, with the
 * group filter applied before anything is enqueued. They never throw: a malformed object maps to
 * nothing (its own reconcile reports it).
 */

/** The field index of MCPServerEntries by the ConfigMap their CA bundle comes from. */
export const CA_BUNDLE_INDEX = 'spec.caBundleRef.configMapRef.name';

/** Index function for {@link CA_BUNDLE_INDEX}. */
export function caBundleIndex(entry: KubeObject): string[] {
  const name = safe(() => caBundleConfigMapName(entry));
  return name ? [name] : [];
}

const keyOf = (object: KubeObject, namespace: string): ObjectKey => ({
  namespace: object.metadata?.namespace ?? namespace,
  name: object.metadata?.name ?? '',
});

/** A workload maps to itself when it is in the group (the controller maps old and new objects). */
export function workloadToRequests(
  kind: WorkloadKind,
  group: string,
  namespace: string,
): (object: KubeObject) => ObjectKey[] {
  return (object) =>
    safe(() => workloadGroup(object, kind)) === group && object.metadata?.name
      ? [keyOf(object, namespace)]
      : [];
}

/** An auth config maps to every workload of the group that references it, of any kind. */
export function authConfigToRequests(
  stores: Readonly<Record<WorkloadKind, ReadonlyStore>>,
  group: string,
  namespace: string,
): (config: KubeObject) => ObjectKey[] {
  return (config) => {
    const name = config.metadata?.name;
    if (!name) return [];
    const requests: ObjectKey[] = [];
    for (const kind of WORKLOAD_KINDS) {
      const inGroup = workloadToRequests(kind, group, namespace);
      for (const workload of stores[kind].list()) {
        if (safe(() => externalAuthConfigName(workload, kind)) === name) {
          requests.push(...inGroup(workload));
        }
      }
    }
    return requests;
  };
}

/** A ConfigMap maps, through the field index, to the entries of the group whose CA it holds. */
export function configMapToRequests(
  entries: ReadonlyStore,
  group: string,
  namespace: string,
): (configMap: KubeObject) => ObjectKey[] {
  const inGroup = workloadToRequests('MCPServerEntry', group, namespace);
  return (configMap) =>
    configMap.metadata?.name
      ? entries.byIndex(CA_BUNDLE_INDEX, configMap.metadata.name).flatMap(inGroup)
      : [];
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
