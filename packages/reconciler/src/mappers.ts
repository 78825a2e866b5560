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

/** The workload caches, by kind. */
export type WorkloadStores = Readonly<Record<WorkloadKind, ReadonlyStore>>;

/**
 * A workload maps to itself when it is in the group (the controller maps old and new objects).
 * With `stores`, a workload of another group maps to its name too when a workload of the group
 * (of any kind) has that name: it does not change what is served for the name, but the name's
 * decision reports it (`otherGroups`), so its changes and its deletion re-reconcile the name.
 */
export function workloadToRequests(
  kind: WorkloadKind,
  group: string,
  namespace: string,
  stores?: WorkloadStores,
): (object: KubeObject) => ObjectKey[] {
  return (object) => {
    const name = object.metadata?.name;
    if (!name) return [];
    if (safe(() => workloadGroup(object, kind)) === group) return [keyOf(object, namespace)];
    if (stores === undefined) return [];
    const key = keyOf(object, namespace);
    return hasNamesakeInGroup(stores, key, group) ? [key] : [];
  };
}

/** True when a workload of the group, of any kind, has the key's name. */
function hasNamesakeInGroup(stores: WorkloadStores, key: ObjectKey, group: string): boolean {
  for (const kind of WORKLOAD_KINDS) {
    const namesake = stores[kind].get(key);
    if (namesake !== undefined && safe(() => workloadGroup(namesake, kind)) === group) return true;
  }
  return false;
}

/** An auth config maps to every workload of the group that references it, of any kind. */
export function authConfigToRequests(
  stores: WorkloadStores,
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
