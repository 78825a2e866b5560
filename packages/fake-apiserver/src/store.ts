import { randomUUID } from 'node:crypto';
import { setOwn } from './own.js';
import { clone } from './patch.js';
import { type FieldError, type JsonSchema, validateTopLevel } from './schema.js';
import type { Selector } from './selectors.js';
import { ApiFailure } from './status.js';
import type { KubeObject } from './types.js';

/** A kind the server serves. */
export interface ResourceType {
  group: string;
  /** Served versions, the storage version first. */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  namespaced: boolean;
  statusSubresource: boolean;
  /** OpenAPI v3 schema per version (CRDs). */
  schemas: Map<string, JsonSchema | undefined>;
  /** Built-in kinds are validated by hand; custom ones by their schema. */
  builtin: boolean;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, as the history keeps it. */
export interface StoredEvent {
  rv: number;
  type: EventType;
  typeKey: string;
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED): selector transitions need it. */
  previous: KubeObject | undefined;
}

/** A live watch: receives every change of its type after registration. */
export interface Subscriber {
  typeKey: string;
  deliver(event: StoredEvent): void;
  /** Called when the type stops being served (CRD deleted). */
  close(): void;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export const typeKeyOf = (group: string, plural: string): string => `${group}/${plural}`;
const objectKey = (namespace: string | undefined, name: string): string =>
  `${namespace ?? ''}/${name}`;

/**
 * The object store of the fake API server: every object of every kind, one global resourceVersion
 * counter, a bounded history of changes for watches, and the subscribers of live watches.
 */
export class ObjectStore {
  readonly types = new Map<string, ResourceType>();
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #history: StoredEvent[] = [];
  readonly #historyLimit: number;
  readonly #subscribers = new Set<Subscriber>();
  #rv = 100;
  /** Watches from a resourceVersion before this one get 410 Gone. */
  #oldestWatchable = 100;

  constructor(historyLimit: number) {
    this.#historyLimit = historyLimit;
    for (const type of BUILTIN_TYPES) this.addType(type);
    for (const name of INITIAL_NAMESPACES) {
      this.create(this.typeOf('', 'namespaces'), undefined, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
      });
    }
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  get oldestWatchable(): number {
    return this.#oldestWatchable;
  }

  addType(type: ResourceType): void {
    const key = typeKeyOf(type.group, type.plural);
    this.types.set(key, type);
    if (!this.#objects.has(key)) this.#objects.set(key, new Map());
  }

  /** Stops serving a type: its objects are dropped and its watches closed, as for a CRD. */
  removeType(group: string, plural: string): void {
    const key = typeKeyOf(group, plural);
    this.types.delete(key);
    this.#objects.delete(key);
    for (const subscriber of this.#subscribers) if (subscriber.typeKey === key) subscriber.close();
  }

  typeOf(group: string, plural: string): ResourceType {
    const type = this.types.get(typeKeyOf(group, plural));
    if (!type)
      throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    return type;
  }

  findType(group: string, version: string, plural: string): ResourceType | undefined {
    const type = this.types.get(typeKeyOf(group, plural));
    return type?.versions.includes(version) ? type : undefined;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Events of a type after `rv`, or undefined when the history no longer reaches back to it. */
  eventsSince(typeKey: string, rv: number): StoredEvent[] | undefined {
    if (rv < this.#oldestWatchable) return undefined;
    return this.#history.filter((e) => e.rv > rv && e.typeKey === typeKey);
  }

  /** Forgets the history: any watch from an older resourceVersion now gets 410 Gone. */
  compact(): void {
    this.#history.length = 0;
    this.#oldestWatchable = this.#rv;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const object = this.#bucket(type).get(objectKey(type.namespaced ? namespace : undefined, name));
    if (!object) throw ApiFailure.notFound(type.plural, type.group, name);
    return object;
  }

  list(type: ResourceType, namespace: string | undefined, selector: Selector): KubeObject[] {
    const items: KubeObject[] = [];
    for (const object of this.#bucket(type).values()) {
      if (namespace !== undefined && type.namespaced && object.metadata.namespace !== namespace)
        continue;
      if (selector(object)) items.push(object);
    }
    return items.sort((a, b) => compareKeys(a, b));
  }

  create(
    type: ResourceType,
    namespace: string | undefined,
    input: KubeObject,
    options: { strict?: boolean; version?: string } = {},
  ): KubeObject {
    const object = clone(input);
    object.metadata ??= {};
    if (type.namespaced) {
      if (object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
        throw ApiFailure.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      object.metadata.namespace = namespace;
      this.#requireNamespace(namespace ?? '');
    } else delete object.metadata.namespace;
    if (!object.metadata.name && object.metadata.generateName) {
      object.metadata.name = `${object.metadata.generateName}${randomSuffix()}`;
    }
    const name = object.metadata.name ?? '';
    this.#validateName(type, name);
    const bucket = this.#bucket(type);
    const key = objectKey(object.metadata.namespace, name);
    if (bucket.has(key)) throw ApiFailure.alreadyExists(type.plural, type.group, name);
    if (type.statusSubresource) delete object.status;
    this.#normalise(type, object, options);
    object.metadata.uid = randomUUID();
    object.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    object.metadata.generation = 1;
    delete object.metadata.resourceVersion;
    delete object.metadata.deletionTimestamp;
    this.#commit(type, key, object, 'ADDED', undefined);
    return object;
  }

  /**
   * Replaces an object (the main resource or its status). A stale resourceVersion is a 409
   * Conflict; an update that changes nothing does not move the resourceVersion.
   */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    input: KubeObject,
    options: {
      subresource?: 'status';
      strict?: boolean;
      version?: string;
      requireResourceVersion?: boolean;
    } = {},
  ): KubeObject {
    const current = this.get(type, namespace, name);
    const incoming = clone(input);
    incoming.metadata ??= {};
    checkUpdate(type, name, current, incoming, options.requireResourceVersion);
    const next =
      options.subresource === 'status'
        ? withStatusOf(current, incoming)
        : withSystemFieldsOf(type, name, current, incoming);
    this.#normalise(type, next, options);
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    if (!type.builtin && options.subresource !== 'status' && specChanged(current, next)) {
      next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    const key = objectKey(current.metadata.namespace, name);
    // A deleted object whose last finalizer went away is gone now.
    if (
      next.metadata.deletionTimestamp &&
      !(next.metadata.finalizers as string[] | undefined)?.length
    ) {
      this.#commit(type, key, next, 'DELETED', current);
      return next;
    }
    this.#commit(type, key, next, 'MODIFIED', current);
    return next;
  }

  /** Deletes an object; one with finalizers is only marked (deletionTimestamp) until they go. */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    preconditionRv?: string,
  ): KubeObject {
    const current = this.get(type, namespace, name);
    if (preconditionRv && preconditionRv !== current.metadata.resourceVersion) {
      throw ApiFailure.conflict(type.plural, type.group, name);
    }
    const key = objectKey(current.metadata.namespace, name);
    const finalizers = current.metadata.finalizers as string[] | undefined;
    if (finalizers?.length) {
      if (current.metadata.deletionTimestamp) return current;
      const marked = clone(current);
      marked.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      this.#commit(type, key, marked, 'MODIFIED', current);
      return marked;
    }
    if (type.plural === 'namespaces' && type.group === '') this.#deleteNamespaceContents(name);
    const gone = clone(current);
    this.#commit(type, key, gone, 'DELETED', current);
    return gone;
  }

  #deleteNamespaceContents(namespace: string): void {
    for (const [typeKey, bucket] of this.#objects) {
      const type = this.types.get(typeKey);
      if (!type?.namespaced) continue;
      for (const object of [...bucket.values()]) {
        if (object.metadata.namespace === namespace) {
          this.#commit(
            type,
            objectKey(namespace, object.metadata.name ?? ''),
            clone(object),
            'DELETED',
            object,
          );
        }
      }
    }
  }

  #commit(
    type: ResourceType,
    key: string,
    object: KubeObject,
    eventType: EventType,
    previous: KubeObject | undefined,
  ): void {
    this.#rv += 1;
    object.metadata.resourceVersion = String(this.#rv);
    deepFreeze(object);
    const bucket = this.#bucket(type);
    if (eventType === 'DELETED') bucket.delete(key);
    else bucket.set(key, object);
    const event: StoredEvent = {
      rv: this.#rv,
      type: eventType,
      typeKey: typeKeyOf(type.group, type.plural),
      object,
      previous,
    };
    this.#history.push(event);
    if (this.#history.length > this.#historyLimit) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historyLimit);
      this.#oldestWatchable = dropped.at(-1)?.rv ?? this.#oldestWatchable;
    }
    for (const subscriber of this.#subscribers) {
      if (subscriber.typeKey === event.typeKey) subscriber.deliver(event);
    }
  }

  #bucket(type: ResourceType): Map<string, KubeObject> {
    const key = typeKeyOf(type.group, type.plural);
    let bucket = this.#objects.get(key);
    if (!bucket) {
      bucket = new Map();
      this.#objects.set(key, bucket);
    }
    return bucket;
  }

  #requireNamespace(namespace: string): void {
    const namespaces = this.#objects.get(typeKeyOf('', 'namespaces'));
    if (!namespaces?.has(objectKey(undefined, namespace))) {
      throw ApiFailure.notFound('namespaces', '', namespace);
    }
  }

  #validateName(type: ResourceType, name: string): void {
    const errors: FieldError[] = [];
    if (name === '') {
      errors.push({
        field: 'metadata.name',
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
      });
    } else {
      const label = type.plural === 'namespaces' && type.group === '';
      const ok = label
        ? DNS_LABEL.test(name) && name.length <= 63
        : DNS_SUBDOMAIN.test(name) && name.length <= 253;
      if (!ok) {
        errors.push({
          field: 'metadata.name',
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 ${label ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        });
      }
    }
    if (errors.length > 0) throw ApiFailure.invalid(type.kind, type.group, name, errors);
  }

  /** apiVersion/kind, Secret stringData, schema validation and pruning. */
  #normalise(
    type: ResourceType,
    object: KubeObject,
    options: { strict?: boolean; version?: string },
  ): void {
    const version = options.version ?? type.versions[0] ?? 'v1';
    object.apiVersion = type.group ? `${type.group}/${version}` : version;
    object.kind = type.kind;
    if (type.kind === 'Secret') normaliseSecret(object);
    if (type.kind === 'Namespace') {
      object.spec = { finalizers: ['kubernetes'] };
      object.status = { phase: 'Active' };
    }
    const errors = metadataErrors(object);
    const schema = type.schemas.get(version);
    if (schema?.properties) {
      const checked = validateTopLevel(object, schema);
      if (options.strict && checked.pruned.length > 0) {
        throw new ApiFailure(
          400,
          'BadRequest',
          `strict decoding error: ${checked.pruned.map((p) => `unknown field "${p}"`).join(', ')}`,
        );
      }
      errors.push(...checked.errors);
    }
    if (errors.length > 0) {
      throw ApiFailure.invalid(type.kind, type.group, object.metadata.name ?? '', errors);
    }
  }
}

/** `stringData` merged into `data` (base64), as the real server stores a Secret. */
function normaliseSecret(object: KubeObject): void {
  const stringData = object.stringData as Record<string, unknown> | undefined;
  if (stringData && typeof stringData === 'object') {
    const data = { ...((object.data as Record<string, string>) ?? {}) };
    for (const [k, v] of Object.entries(stringData))
      setOwn(data, k, Buffer.from(String(v)).toString('base64'));
    object.data = data;
  }
  delete object.stringData;
  object.type ??= 'Opaque';
}

function metadataErrors(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['labels', 'annotations'] as const) {
    const value = object.metadata[field];
    if (value !== undefined && !isStringMap(value)) {
      errors.push({
        field: `metadata.${field}`,
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${field} must be strings`,
      });
    }
  }
  return errors;
}

/** The name must match and the resourceVersion be current (required for custom resources). */
function checkUpdate(
  type: ResourceType,
  name: string,
  current: KubeObject,
  incoming: KubeObject,
  requireResourceVersion: boolean | undefined,
): void {
  if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
    throw ApiFailure.badRequest(
      `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  const expected = incoming.metadata.resourceVersion;
  if (expected === undefined || expected === '') {
    if (requireResourceVersion ?? !type.builtin) {
      throw ApiFailure.invalid(type.kind, type.group, name, [
        {
          field: 'metadata.resourceVersion',
          reason: 'FieldValueInvalid',
          message: 'Invalid value: 0x0: must be specified for an update',
        },
      ]);
    }
  } else if (expected !== current.metadata.resourceVersion) {
    throw ApiFailure.conflict(type.plural, type.group, name);
  }
}

/** A status write: the current object with the incoming status, nothing else. */
function withStatusOf(current: KubeObject, incoming: KubeObject): KubeObject {
  const next = clone(current);
  if (incoming.status === undefined) delete next.status;
  else next.status = incoming.status;
  return next;
}

/** A main-resource write: the incoming object, with the status and system metadata kept. */
function withSystemFieldsOf(
  type: ResourceType,
  name: string,
  current: KubeObject,
  incoming: KubeObject,
): KubeObject {
  const next = incoming;
  if (type.statusSubresource) {
    if (current.status === undefined) delete next.status;
    else next.status = clone(current.status);
  }
  next.metadata = {
    ...next.metadata,
    name,
    uid: current.metadata.uid,
    creationTimestamp: current.metadata.creationTimestamp,
    generation: current.metadata.generation,
    ...(type.namespaced ? { namespace: current.metadata.namespace } : {}),
  };
  if (current.metadata.deletionTimestamp) {
    next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
  }
  return next;
}

function isStringMap(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

function specChanged(before: KubeObject, after: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  };
  return strip(before) !== strip(after);
}

function compareKeys(a: KubeObject, b: KubeObject): number {
  const ka = objectKey(a.metadata.namespace, a.metadata.name ?? '');
  const kb = objectKey(b.metadata.namespace, b.metadata.name ?? '');
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[Math.floor(Math.random() * alphabet.length)];
  return suffix;
}

const core = (
  plural: string,
  kind: string,
  shortNames: string[],
  namespaced: boolean,
): ResourceType => ({
  group: '',
  versions: ['v1'],
  plural,
  singular: kind.toLowerCase(),
  kind,
  listKind: `${kind}List`,
  shortNames,
  namespaced,
  statusSubresource: plural === 'namespaces',
  schemas: new Map(),
  builtin: true,
});

/** The kinds served without a CRD. */
export const BUILTIN_TYPES: readonly ResourceType[] = [
  core('namespaces', 'Namespace', ['ns'], false),
  core('configmaps', 'ConfigMap', ['cm'], true),
  core('secrets', 'Secret', [], true),
  {
    group: 'apiextensions.k8s.io',
    versions: ['v1'],
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    listKind: 'CustomResourceDefinitionList',
    shortNames: ['crd', 'crds'],
    namespaced: false,
    statusSubresource: true,
    schemas: new Map(),
    builtin: true,
  },
];
