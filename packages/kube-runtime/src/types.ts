/**
 * The contracts shared by every part of the runtime: objects, resources, handlers, informers and
 * the logger. Kept in one small file so that the watcher/informer side and the
 * queue/controller side can be built and tested separately.
 */

/** Object metadata as the API server returns it. Only the fields the runtime reads are typed. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  /** Opaque: compare for equality only, never parse or order it. */
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  managedFields?: unknown[];
  [key: string]: unknown;
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Identifies a resource type on the API server. */
export interface ResourceRef {
  /** API group; `''` for the core group (ConfigMap, Secret). */
  group: string;
  version: string;
  /** Lower-case plural, as in the URL: `mcpservers`, `configmaps`. */
  plural: string;
  kind: string;
  /** Defaults to true. */
  namespaced?: boolean;
}

/** A reconcile request: the key of one object. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

/**
 * The key of an object in caches and work queues: `namespace/name`, or `name` for a
 * cluster-scoped object (client-go's `MetaNamespaceKeyFunc`). Neither part can hold a `/`.
 */
export function metaNamespaceKey(ref: {
  namespace?: string | undefined;
  name?: string | undefined;
}): string {
  return ref.namespace ? `${ref.namespace}/${ref.name ?? ''}` : (ref.name ?? '');
}

/** The namespace and name a {@link metaNamespaceKey} stands for (`''` for cluster-scoped). */
export function splitMetaNamespaceKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * Callbacks an informer delivers to, in event order. A handler that throws is logged and
 * counted, and never stops the stream or the other handlers.
 */
export interface EventHandler<T extends KubeObject = KubeObject> {
  /** `isInInitialList` is true for objects delivered by the initial list (or a relist). */
  onAdd?(object: T, isInInitialList: boolean): void;
  onUpdate?(oldObject: T, newObject: T): void;
  /**
   * `finalStateUnknown` is true when the delete was discovered by a relist (it happened while
   * the watch was down): `object` is then the last state the cache knew.
   */
  onDelete?(object: T, finalStateUnknown: boolean): void;
}

/** Handle returned by {@link Informer.addEventHandler}. */
export interface HandlerRegistration {
  remove(): void;
}

/**
 * The read side of an informer's cache (kube-rs's `Store`; the writer stays inside the
 * informer). Objects are deep-frozen: never changed in place, replaced on update.
 */
export interface ReadonlyStore<T extends KubeObject = KubeObject> {
  /** By `{ namespace, name }` or by key (`namespace/name`; `name` when cluster-scoped). */
  get(key: ObjectKey | string): T | undefined;
  list(): T[];
  keys(): string[];
  /**
   * Objects whose index function returned `value` for the index `indexName`. Throws for an index
   * that was never added.
   */
  byIndex(indexName: string, value: string): T[];
  readonly size: number;
}

/**
 * A shared informer: one list/watch per resource, namespace and selector, a cache, and handlers.
 * The controller side depends on this interface only.
 */
export interface Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceRef;
  readonly namespace: string | undefined;
  readonly store: ReadonlyStore<T>;
  /**
   * Adds a handler. A handler added after the informer synced first gets an `onAdd(obj, true)`
   * for every cached object, then live events.
   */
  addEventHandler(handler: EventHandler<T>): HandlerRegistration;
  /** Adds a secondary index; must be called before `start`. */
  addIndex(name: string, indexFn: (object: T) => string[]): void;
  hasSynced(): boolean;
  /** Resolves true once synced, false if the signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean>;
  /** Runs until the signal aborts; resolves after shutdown. */
  run(signal: AbortSignal): Promise<void>;
}

/**
 * A log method: fields and an optional message (`logger.info({ name }, 'reconciled')`), or a
 * message alone (pino's call shape).
 */
export type LogFn = (fieldsOrMessage: Record<string, unknown> | string, message?: string) => void;

/**
 * A structured logger, the one shape every vmcp-k8s package takes: pino's call shape
 * (`logger.info({ namespace, name }, 'reconciled')`), which pino and `console` both satisfy as
 * they are, and any logger with these four methods. `child` is used when there is one (pino's
 * bindings); otherwise {@link childLogger} adds the bindings to each call's fields. Libraries
 * default to {@link silentLogger}.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child?(bindings: Record<string, unknown>): Logger;
}

const noop = (): void => {};

/** A logger that drops everything: the default of every library component. */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
});

/**
 * `logger` with `bindings` on every line: its own `child` where it has one (pino), else a
 * logger that adds them to each call's fields (`console`). {@link silentLogger} when undefined.
 */
export function childLogger(logger: Logger | undefined, bindings: Record<string, unknown>): Logger {
  if (logger === undefined) return silentLogger;
  if (typeof logger.child === 'function') return logger.child(bindings);
  const bound =
    (level: 'debug' | 'info' | 'warn' | 'error'): LogFn =>
    (fieldsOrMessage, message) => {
      if (typeof fieldsOrMessage === 'string') logger[level]({ ...bindings }, fieldsOrMessage);
      else if (message === undefined) logger[level]({ ...bindings, ...fieldsOrMessage });
      else logger[level]({ ...bindings, ...fieldsOrMessage }, message);
    };
  return {
    debug: bound('debug'),
    info: bound('info'),
    warn: bound('warn'),
    error: bound('error'),
    child: (more) => childLogger(logger, { ...bindings, ...more }),
  };
}

/**
 * The log context of a watch, and of the informer around it: the resource (its plural) and the
 * namespace when there is one. Both bind exactly these keys, once each (the informer hands the
 * watcher its caller's logger, not its own), so that no log line carries a key twice.
 */
export function watchLogBindings(
  resource: ResourceRef,
  namespace: string | undefined,
): Record<string, string> {
  return namespace ? { resource: resource.plural, namespace } : { resource: resource.plural };
}

/** An error's message for a log line (never its stack or its fields). */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
