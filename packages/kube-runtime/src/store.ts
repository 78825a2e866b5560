import { dropManagedFields, type Transform } from './transform.js';
import { type KubeObject, metaNamespaceKey, type ObjectKey, type ReadonlyStore } from './types.js';

/** The key of an object in the store: `namespace/name`, or `name` when cluster-scoped. */
const keyOf = (object: KubeObject): string => metaNamespaceKey(object.metadata);

/** Told when an index function throws for an object; the object is then not in that index. */
export type IndexErrorHandler<T> = (indexName: string, object: T, error: unknown) => void;

/** A change the store made, in the order it made them. */
export type StoreChange<T> =
  | { type: 'add'; object: T; isInInitialList: boolean }
  | { type: 'update'; oldObject: T; newObject: T }
  | { type: 'delete'; object: T; finalStateUnknown: boolean };

/** A relist being built aside: see {@link Store.beginReplace}. */
export interface StoreReplacement<T> {
  /** Adds one object of the new state (transformed and frozen now, unless already cached). */
  add(raw: T): void;
  /** Swaps the new state in and returns the changes, as {@link Store.replace}. Once. */
  commit(): StoreChange<T>[];
}

/** True when `raw` is the version of the object `cached` is (same UID and resourceVersion). */
function isSameVersion(cached: KubeObject, raw: KubeObject): boolean {
  return (
    cached.metadata.resourceVersion === raw.metadata.resourceVersion &&
    cached.metadata.uid === raw.metadata.uid
  );
}

/** Freezes an object graph. Walks without allocating (no key arrays): it runs on every event. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    const record = value as Record<string, unknown>;
    for (const key in record) if (Object.hasOwn(record, key)) deepFreeze(record[key]);
  }
  return value;
}

/**
 * The informer's cache, its writing side (kube-rs's `Writer`): objects keyed `namespace/name`,
 * deep-frozen, with secondary indexes. `replace` swaps in a whole new list atomically and reports
 * what changed. Readers get {@link reader}, which cannot write.
 */
export class Store<T extends KubeObject = KubeObject> implements ReadonlyStore<T> {
  readonly #objects = new Map<string, T>();
  readonly #indexFns = new Map<string, (object: T) => string[]>();
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  readonly #transform: Transform<T>;
  readonly #onIndexError: IndexErrorHandler<T> | undefined;
  #reader: ReadonlyStore<T> | undefined;

  constructor(transform: Transform<T> = dropManagedFields, onIndexError?: IndexErrorHandler<T>) {
    this.#transform = transform;
    this.#onIndexError = onIndexError;
  }

  /** A view of this store that can only read: what an informer hands its users. */
  reader(): ReadonlyStore<T> {
    if (this.#reader === undefined) {
      const store = this;
      this.#reader = Object.freeze({
        get: (key: ObjectKey | string) => store.get(key),
        list: () => store.list(),
        keys: () => store.keys(),
        byIndex: (indexName: string, value: string) => store.byIndex(indexName, value),
        get size() {
          return store.size;
        },
      });
    }
    return this.#reader;
  }

  get size(): number {
    return this.#objects.size;
  }

  get(key: ObjectKey | string): T | undefined {
    return this.#objects.get(typeof key === 'string' ? key : metaNamespaceKey(key));
  }

  list(): T[] {
    return [...this.#objects.values()];
  }

  keys(): string[] {
    return [...this.#objects.keys()];
  }

  addIndex(name: string, indexFn: (object: T) => string[]): void {
    if (this.#indexFns.has(name)) throw new Error(`index ${name} already exists`);
    this.#indexFns.set(name, indexFn);
    const index = new Map<string, Set<string>>();
    this.#indexes.set(name, index);
    for (const [key, object] of this.#objects) this.#indexOne(name, index, key, object);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.#indexes.get(name);
    if (index === undefined) throw new Error(`no index named ${name}`);
    const keys = index.get(value);
    if (keys === undefined) return [];
    return [...keys].map((key) => this.#objects.get(key) as T);
  }

  /**
   * Adds or updates one object (from a watch event). A version the store holds already changes
   * nothing and is not transformed again.
   */
  apply(raw: T): StoreChange<T> | undefined {
    const key = keyOf(raw);
    const old = this.#objects.get(key);
    if (old !== undefined && isSameVersion(old, raw)) return undefined;
    const object = this.#admit(raw, key);
    this.#set(key, object, old);
    return old === undefined
      ? { type: 'add', object, isInInitialList: false }
      : { type: 'update', oldObject: old, newObject: object };
  }

  /**
   * Removes one object (from a watch event); the change carries its final state, transformed. A
   * final state the transform cannot take (it throws, or changes the key) never holds the delete
   * back: the change then carries the state the cache held, marked `finalStateUnknown`.
   */
  delete(raw: T): StoreChange<T> | undefined {
    const key = keyOf(raw);
    const old = this.#objects.get(key);
    if (old === undefined) return undefined;
    this.#unset(key, old);
    try {
      return { type: 'delete', object: this.#admit(raw, key), finalStateUnknown: false };
    } catch {
      return { type: 'delete', object: old, finalStateUnknown: true };
    }
  }

  /**
   * The object as the store keeps it: transformed, then frozen. A transform that changes the
   * object's key throws here (the informer skips the object, and says so).
   */
  #admit(raw: T, key: string): T {
    const object = deepFreeze(this.#transform(raw));
    if (object !== raw && keyOf(object) !== key) {
      throw new Error(`the transform changed the object's key from ${key} to ${keyOf(object)}`);
    }
    return object;
  }

  /**
   * Replaces the whole content with a (re)list, atomically: the new state is built first, then
   * swapped in. Returns the changes: deletes (with the last known object, `finalStateUnknown`)
   * for keys that are gone, updates only for objects whose resourceVersion changed, adds for new
   * keys, and a delete followed by an add where the UID changed under the same name.
   */
  replace(rawObjects: Iterable<T>): StoreChange<T>[] {
    const replacement = this.beginReplace();
    for (const raw of rawObjects) replacement.add(raw);
    return replacement.commit();
  }

  /**
   * {@link replace} in steps, for a (re)list that arrives object by object: each object is
   * transformed and frozen as it is added (so the raw one, `managedFields` and all, can be
   * collected at once instead of surviving until the list ends), and nothing is visible until
   * `commit`, which swaps the new state in and returns the changes. An object whose version the
   * store holds already is kept as it is (not transformed again, and the same instance). A
   * replacement that is never committed changes nothing.
   */
  beginReplace(): StoreReplacement<T> {
    const next = new Map<string, T>();
    let committed = false;
    return {
      add: (raw) => {
        if (committed) throw new Error('replacement already committed');
        const key = keyOf(raw);
        const old = this.#objects.get(key);
        next.set(key, old !== undefined && isSameVersion(old, raw) ? old : this.#admit(raw, key));
      },
      commit: () => {
        if (committed) throw new Error('replacement already committed');
        committed = true;
        return this.#swap(next);
      },
    };
  }

  #swap(next: Map<string, T>): StoreChange<T>[] {
    const changes: StoreChange<T>[] = [];
    for (const [key, old] of this.#objects) {
      if (!next.has(key)) {
        this.#unset(key, old);
        changes.push({ type: 'delete', object: old, finalStateUnknown: true });
      }
    }
    for (const [key, object] of next) {
      const old = this.#objects.get(key);
      if (old === undefined) {
        this.#set(key, object, undefined);
        changes.push({ type: 'add', object, isInInitialList: true });
      } else if (old.metadata.uid !== object.metadata.uid) {
        this.#unset(key, old);
        changes.push({ type: 'delete', object: old, finalStateUnknown: true });
        this.#set(key, object, undefined);
        changes.push({ type: 'add', object, isInInitialList: true });
      } else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
        this.#set(key, object, old);
        changes.push({ type: 'update', oldObject: old, newObject: object });
      }
    }
    return changes;
  }

  #set(key: string, object: T, old: T | undefined): void {
    if (old !== undefined) this.#unindex(key, old);
    this.#objects.set(key, object);
    for (const [name, index] of this.#indexes) this.#indexOne(name, index, key, object);
  }

  #unset(key: string, old: T): void {
    this.#unindex(key, old);
    this.#objects.delete(key);
  }

  /**
   * The values an index function gives an object. A function that throws indexes nothing, and
   * the store's `onIndexError` is told (the informer logs and counts it).
   */
  #indexValues(name: string, object: T): string[] {
    const fn = this.#indexFns.get(name) as (object: T) => string[];
    try {
      return fn(object);
    } catch (error) {
      this.#onIndexError?.(name, object, error);
      return [];
    }
  }

  #indexOne(name: string, index: Map<string, Set<string>>, key: string, object: T): void {
    for (const value of this.#indexValues(name, object)) {
      let keys = index.get(value);
      if (keys === undefined) {
        keys = new Set();
        index.set(value, keys);
      }
      keys.add(key);
    }
  }

  #unindex(key: string, old: T): void {
    for (const [name, index] of this.#indexes) {
      for (const value of this.#indexValues(name, old)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}
