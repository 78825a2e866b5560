import type { JsonSchema } from './schema.js';
import { type ObjectStore, type ResourceType, typeKeyOf } from './store.js';
import type { KubeObject } from './types.js';

// CustomResourceDefinitions take effect at once: creating or updating one serves its kind (and
// marks it Established, as kube-apiserver does a moment later); deleting one stops serving it.

const CRD_TYPE_KEY = typeKeyOf('apiextensions.k8s.io', 'customresourcedefinitions');

interface CrdSpec {
  group: string;
  names: {
    plural: string;
    singular?: string;
    kind: string;
    listKind?: string;
    shortNames?: string[];
  };
  scope: string;
  versions: {
    name: string;
    served: boolean;
    storage: boolean;
    schema?: { openAPIV3Schema?: JsonSchema };
    subresources?: { status?: object };
  }[];
}

/** Is this the CustomResourceDefinition type? */
export function isCrdType(store: ObjectStore, type: ResourceType): boolean {
  return type === store.types.get(CRD_TYPE_KEY);
}

/** Serves the kind a stored CRD defines, and marks the CRD Established (once). */
export function installCrd(store: ObjectStore, crd: KubeObject): void {
  const spec = crd.spec as CrdSpec;
  const served = spec.versions.filter((v) => v.served);
  const storage = served.find((v) => v.storage) ?? served[0];
  const ordered = storage ? [storage, ...served.filter((v) => v !== storage)] : served;
  store.addType({
    group: spec.group,
    versions: ordered.map((v) => v.name),
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    kind: spec.names.kind,
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
    shortNames: spec.names.shortNames ?? [],
    namespaced: spec.scope === 'Namespaced',
    statusSubresource: ordered.some((v) => v.subresources?.status !== undefined),
    schemas: new Map(ordered.map((v) => [v.name, v.schema?.openAPIV3Schema])),
    builtin: false,
  });
  markEstablished(store, crd, spec, storage?.name);
}

function markEstablished(
  store: ObjectStore,
  crd: KubeObject,
  spec: CrdSpec,
  storageVersion: string | undefined,
): void {
  const crdType = store.typeOf('apiextensions.k8s.io', 'customresourcedefinitions');
  const current = store.get(crdType, undefined, crd.metadata.name ?? '');
  const existing = current.status as
    | { conditions?: { type: string; status: string }[] }
    | undefined;
  if (existing?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = {
    acceptedNames: { ...spec.names },
    storedVersions: storageVersion ? [storageVersion] : [],
    conditions: [
      {
        type: 'NamesAccepted',
        status: 'True',
        reason: 'NoConflicts',
        message: 'no conflicts found',
        lastTransitionTime: now,
      },
      {
        type: 'Established',
        status: 'True',
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
        lastTransitionTime: now,
      },
    ],
  };
  store.update(crdType, undefined, crd.metadata.name ?? '', { ...current, status } as KubeObject, {
    subresource: 'status',
  });
}

/** Stops serving the kind a deleted CRD defined (its open watches end). */
export function uninstallCrd(store: ObjectStore, crd: KubeObject): void {
  const spec = crd.spec as { group: string; names: { plural: string } };
  store.removeType(spec.group, spec.names.plural);
}
