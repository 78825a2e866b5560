import type { KubeObject } from './types.js';

/**
 * An informer's transform (client-go's `SetTransform`, controller-runtime's
 * `TransformStripManagedFields`): what an object becomes before it enters the cache, so that the
 * cache holds only what its readers use.
 *
 * The contract:
 * - It runs before the object enters the store, on both paths: each item of a (re)list and each
 *   watch event (the last state of a deleted object too). Handlers and readers only ever see its
 *   result, deep-frozen.
 * - It runs once per object version: an event or a relist item whose `uid` and `resourceVersion`
 *   the cache already holds keeps the cached object, untransformed again.
 * - It is pure: its result depends on its argument alone, and it does not change the argument
 *   (return a new object, or the same one when there is nothing to drop). It may share unchanged
 *   parts of the argument.
 * - It keeps what identifies the object: `metadata.name`, `namespace`, `uid` and
 *   `resourceVersion`. An object whose key it changes, or on which it throws, is skipped, logged
 *   and counted (the informer's `skippedObjects`); the stream goes on.
 */
export type Transform<T extends KubeObject = KubeObject> = (object: T) => T;

/** Drops `metadata.managedFields` (server-side apply's bookkeeping). The default transform. */
export function dropManagedFields<T extends KubeObject>(object: T): T {
  if (object.metadata?.managedFields === undefined) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** The annotation `kubectl apply` keeps on every object it applied: a copy of the whole object. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops the bookkeeping of both kinds of apply: `metadata.managedFields` (server-side) and the
 * {@link LAST_APPLIED_ANNOTATION} (client-side, a second copy of the object as last applied, often
 * as large as the rest of it). For caches whose readers need neither.
 */
export function dropApplyMetadata<T extends KubeObject>(object: T): T {
  const annotations = object.metadata?.annotations;
  if (annotations === undefined || !Object.hasOwn(annotations, LAST_APPLIED_ANNOTATION))
    return dropManagedFields(object);
  const { managedFields: _fields, ...metadata } = object.metadata;
  const { [LAST_APPLIED_ANNOTATION]: _lastApplied, ...kept } = annotations;
  return { ...object, metadata: { ...metadata, annotations: kept } };
}

/**
 * Keeps only what says which object this is and which version: `apiVersion`, `kind` and
 * `metadata.name`, `namespace`, `uid`, `resourceVersion`. For caches that only map an object's
 * existence and changes to something else (the data, the labels and the annotations are dropped:
 * a reader that needs them reads the object itself).
 */
export function keepIdentity<T extends KubeObject>(object: T): T {
  const { name, namespace, uid, resourceVersion } = object.metadata;
  const metadata: KubeObject['metadata'] = {};
  if (name !== undefined) metadata.name = name;
  if (namespace !== undefined) metadata.namespace = namespace;
  if (uid !== undefined) metadata.uid = uid;
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  const kept: KubeObject = { metadata };
  if (object.apiVersion !== undefined) kept.apiVersion = object.apiVersion;
  if (object.kind !== undefined) kept.kind = object.kind;
  return kept as T;
}
