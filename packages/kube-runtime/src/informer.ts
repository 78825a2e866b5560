import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, ResourceClient } from './client.js';
import { compileFieldPaths, type FieldPath } from './drop-before-parse.js';
import type { WatchMetrics } from './metrics.js';
import { Store, type StoreChange, type StoreReplacement } from './store.js';
import { dropManagedFields, type Transform } from './transform.js';
import type {
  EventHandler,
  HandlerRegistration,
  Informer,
  KubeObject,
  Logger,
  ReadonlyStore,
  ResourceRef,
} from './types.js';
import {
  childLogger,
  describeError,
  metaNamespaceKey,
  silentLogger,
  watchLogBindings,
} from './types.js';
import {
  checkWatcherOptions,
  runWatcher,
  type WatchEvent,
  type WatcherOptions,
  type WatchObserver,
} from './watcher.js';

/** Options of {@link createInformer}. */
export interface InformerOptions<T extends KubeObject> {
  /** A client, or a kubeconfig to make one from. */
  client?: KubeClient;
  kubeConfig?: KubeConfig;
  resource: ResourceRef;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Watch metadata only (`PartialObjectMetadata`, as client-go's metadata informers): the cache
   * holds `apiVersion`, `kind` and `metadata` of each object, never its data, so a namespace's
   * large ConfigMaps cost nothing but their names. Handlers see a changed `resourceVersion` when
   * the data changed, and read the data with a GET when they need it. Objects a server sends
   * whole are cut down to the same shape.
   */
  metadataOnly?: boolean;
  /**
   * What each object becomes before it enters the cache, on the list and the watch paths, once
   * per object version; it must be pure and keep the object's identity (the contract is on
   * {@link Transform}). Default `dropManagedFields`; `dropApplyMetadata` also drops kubectl's
   * last-applied annotation, `keepIdentity` keeps nothing but the name and version. With
   * `metadataOnly`, it runs on the metadata-only object.
   */
  transform?: Transform<T>;
  /**
   * Fields cut from each object's bytes before it is parsed (`APPLY_METADATA_FIELDS`, say), on the
   * list and the watch paths: the transform then runs on the object as if it had been parsed
   * whole and these fields deleted, but their bytes are never decoded or parsed. Name fields the
   * transform drops anyway (or that no reader uses): an object that carries them then costs only
   * the bytes that are kept. Paths that would drop the object's identity are refused
   * (`TypeError`). Default: none.
   */
  dropBeforeParse?: readonly FieldPath[];
  logger?: Logger;
  /**
   * The watch's settings (page size, stall timeout, backoff, watch-list, clock, …); one out of
   * range is a `RangeError` here.
   */
  watcher?: Omit<WatcherOptions, 'labelSelector' | 'fieldSelector' | 'logger' | 'dropBeforeParse'>;
  /** Watch health metrics (e.g. `manager.metrics.watch`). */
  metrics?: WatchMetrics;
}

class ListWatchInformer<T extends KubeObject> implements Informer<T> {
  readonly resource: ResourceRef;
  readonly namespace: string | undefined;
  readonly store: ReadonlyStore<T>;
  /** The writing side of the cache: only the watch's events change it. */
  readonly #store: Store<T>;
  readonly #client: ResourceClient<T>;
  readonly #options: InformerOptions<T>;
  readonly #logger: Logger;
  readonly #handlers = new Set<EventHandler<T>>();
  #synced = false;
  #lastSyncResourceVersion: string | undefined;
  readonly #syncWaiters = new Set<() => void>();
  /** A (re)list being built aside, swapped in at its `initDone`. */
  #replacement: StoreReplacement<T> | undefined;
  #handlerErrors = 0;
  #indexErrors = 0;
  #skippedObjects = 0;
  #running = false;

  constructor(options: InformerOptions<T>) {
    // Refuses paths that would drop the identity now rather than when the informer runs.
    if (options.dropBeforeParse) compileFieldPaths(options.dropBeforeParse);
    const client =
      options.client ?? (options.kubeConfig ? new KubeClient(options.kubeConfig) : undefined);
    if (client === undefined) throw new TypeError('createInformer: give a client or a kubeConfig');
    // A watch setting out of range fails here, not when the informer runs.
    checkWatcherOptions(options.watcher ?? {});
    this.resource = options.resource;
    this.namespace = options.namespace;
    this.#client = new ResourceClient<T>(client, options.resource, options.namespace, {
      metadataOnly: options.metadataOnly === true,
    });
    this.#store = new Store<T>(
      options.metadataOnly ? metadataOnlyTransform(options.transform) : options.transform,
      (name, object, error) => this.#indexFailed(name, object, error),
    );
    this.store = this.#store.reader();
    this.#options = options;
    this.#logger = childLogger(
      options.logger,
      watchLogBindings(options.resource, options.namespace),
    );
  }

  /** The resourceVersion of the last completed (re)list. */
  get lastSyncResourceVersion(): string | undefined {
    return this.#lastSyncResourceVersion;
  }

  /** How many times a handler threw. */
  get handlerErrors(): number {
    return this.#handlerErrors;
  }

  /** How many times an index function threw (the object is then missing from that index). */
  get indexErrors(): number {
    return this.#indexErrors;
  }

  /**
   * How many objects the cache could not take (no `metadata`, or a transform that threw): each
   * is logged and skipped, and the stream goes on.
   */
  get skippedObjects(): number {
    return this.#skippedObjects;
  }

  addEventHandler(handler: EventHandler<T>): HandlerRegistration {
    this.#handlers.add(handler);
    if (this.#synced) {
      for (const object of this.#store.list())
        this.#deliver({ type: 'add', object, isInInitialList: true }, [handler]);
    }
    return { remove: () => this.#handlers.delete(handler) };
  }

  addIndex(name: string, indexFn: (object: T) => string[]): void {
    this.#store.addIndex(name, indexFn);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#syncWaiters.delete(wake);
        resolve(false);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      };
      this.#syncWaiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`informer ${this.resource.plural} already running`);
    this.#running = true;
    try {
      await runWatcher<T>(
        this.#client,
        {
          ...this.#options.watcher,
          ...(this.#options.labelSelector ? { labelSelector: this.#options.labelSelector } : {}),
          ...(this.#options.fieldSelector ? { fieldSelector: this.#options.fieldSelector } : {}),
          ...(this.#options.dropBeforeParse
            ? { dropBeforeParse: this.#options.dropBeforeParse }
            : {}),
          // The watcher binds the same context as this informer's logger: it gets the caller's.
          logger: this.#options.logger ?? silentLogger,
          observer: this.#observer(),
        },
        signal,
        this.#onEvent,
      );
    } finally {
      this.#running = false;
      this.#replacement = undefined;
    }
  }

  /** The watcher's observer: the metrics', then the caller's (which sees everything they see). */
  #observer(): WatchObserver {
    const resource = this.resource.plural;
    const metrics = this.#options.metrics;
    const observer = this.#options.watcher?.observer;
    return {
      onRelist: () => {
        metrics?.relist(resource);
        observer?.onRelist?.();
      },
      onWatchRestart: (reason) => {
        metrics?.restart(resource, reason);
        observer?.onWatchRestart?.(reason);
      },
      onEvent: () => {
        metrics?.event(resource);
        observer?.onEvent?.();
      },
    };
  }

  /**
   * The watch sink: applies each event to the cache and calls the handlers, synchronously as the
   * event is parsed (no promise per event). A (re)list is built aside object by object and
   * swapped in at its end.
   */
  readonly #onEvent = (event: WatchEvent<T>): void => {
    switch (event.type) {
      case 'init':
        this.#replacement = this.#store.beginReplace();
        break;
      case 'initApply':
        this.#replacement ??= this.#store.beginReplace();
        try {
          this.#replacement.add(event.object);
        } catch (error) {
          this.#skip(event.object, error);
        }
        break;
      case 'initDone':
        this.#relisted(event.resourceVersion);
        break;
      case 'apply':
      case 'delete':
        this.#changed(event.type, event.object);
        break;
      case 'bookmark':
        break;
    }
  };

  /** Swaps a finished (re)list in, calls the handlers, and marks the informer synced. */
  #relisted(resourceVersion: string): void {
    const changes = (this.#replacement ?? this.#store.beginReplace()).commit();
    this.#replacement = undefined;
    this.#lastSyncResourceVersion = resourceVersion;
    this.#dispatch(changes);
    if (this.#synced) return;
    this.#synced = true;
    this.#logger.info({ objects: this.#store.size }, 'synced');
    for (const wake of this.#syncWaiters) wake();
    this.#syncWaiters.clear();
  }

  /** Applies one watch event to the cache and calls the handlers for what changed. */
  #changed(type: 'apply' | 'delete', object: T): void {
    let change: StoreChange<T> | undefined;
    try {
      change = type === 'apply' ? this.#store.apply(object) : this.#store.delete(object);
    } catch (error) {
      this.#skip(object, error);
      return;
    }
    if (change) this.#deliver(change);
  }

  /** Logs and counts an object the cache could not take; the stream goes on. */
  #skip(object: T, error: unknown): void {
    this.#skippedObjects++;
    this.#options.metrics?.skipped?.(this.resource.plural);
    this.#logger.warn(
      { err: describeError(error), ...objectKeyOf(object) },
      'object skipped: the cache cannot take it',
    );
  }

  /** Logs and counts an index function that threw, as a throwing handler is. */
  #indexFailed(indexName: string, object: T, error: unknown): void {
    this.#indexErrors++;
    this.#logger.error(
      { index: indexName, err: describeError(error), ...objectKeyOf(object) },
      'index function threw; object not indexed',
    );
  }

  #dispatch(changes: StoreChange<T>[]): void {
    for (const change of changes) this.#deliver(change);
  }

  /** Calls the handlers for one change, in order; a handler that throws is logged and counted. */
  #deliver(change: StoreChange<T>, handlers: Iterable<EventHandler<T>> = this.#handlers): void {
    for (const handler of handlers) {
      try {
        if (change.type === 'add') handler.onAdd?.(change.object, change.isInInitialList);
        else if (change.type === 'update') handler.onUpdate?.(change.oldObject, change.newObject);
        else handler.onDelete?.(change.object, change.finalStateUnknown);
      } catch (error) {
        this.#handlerErrors++;
        this.#logger.error({ err: describeError(error) }, 'event handler threw; continuing');
      }
    }
  }
}

/**
 * Cuts an object down to what a metadata-only informer keeps. A `PartialObjectMetadata` has
 * nothing else and passes through as it is.
 */
function metadataOnlyTransform<T extends KubeObject>(
  transform: Transform<T> = dropManagedFields,
): Transform<T> {
  return (object) => {
    const { apiVersion, kind, metadata } = object;
    let kept = object;
    for (const key in object) {
      if (key !== 'apiVersion' && key !== 'kind' && key !== 'metadata') {
        kept = { apiVersion, kind, metadata } as T;
        break;
      }
    }
    return transform(kept);
  };
}

/**
 * An object's key (`namespace/name`) for a log line, as `object`, when its name is a string
 * (never its data; never as `name` or `namespace`, which a logger and its context own).
 */
function objectKeyOf(object: unknown): { object?: string } {
  const metadata = (object as { metadata?: { namespace?: unknown; name?: unknown } }).metadata;
  if (typeof metadata?.name !== 'string') return {};
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
  return { object: metaNamespaceKey({ namespace, name: metadata.name }) };
}

/**
 * An informer made by {@link createInformer}: the {@link Informer} contract plus what it counts.
 * Its `store` reads the cache; only the informer's watch writes it.
 */
export type ListWatchInformerHandle<T extends KubeObject> = Informer<T> & {
  /** The resourceVersion of the last completed (re)list. */
  readonly lastSyncResourceVersion: string | undefined;
  /** How many times a handler threw (each is logged; the stream goes on). */
  readonly handlerErrors: number;
  /** How many times an index function threw (each is logged; the object is left out of that index). */
  readonly indexErrors: number;
  /** How many objects the cache could not take (no `metadata`, a transform that threw). */
  readonly skippedObjects: number;
};

/**
 * An informer: lists and watches one resource (in one namespace, with optional selectors),
 * keeps a frozen cache with indexes, and calls handlers in event order. A handler that throws is
 * logged and counted and never stops the stream. Relists are atomic: built aside and swapped in
 * with the changes they make (deletes of vanished objects with `finalStateUnknown`).
 *
 * Handlers run synchronously inside the watch, as each event is parsed: a slow handler holds up
 * the stream (client-go instead buffers each handler on its own). Enqueueing, as a controller
 * does, is cheap; do heavier work outside the handler.
 */
export function createInformer<T extends KubeObject = KubeObject>(
  options: InformerOptions<T>,
): ListWatchInformerHandle<T> {
  return new ListWatchInformer<T>(options);
}

/**
 * Shares informers: one per resource, namespace, selector set, metadata-only mode, transform and
 * fields dropped before parse, however many controllers ask.
 */
export class InformerFactory {
  readonly #defaults: Omit<InformerOptions<KubeObject>, 'resource'>;
  readonly #informers = new Map<string, ListWatchInformerHandle<KubeObject>>();
  /** A number per transform function, for the sharing key. */
  readonly #transformIds = new Map<Transform, number>();

  constructor(defaults: Omit<InformerOptions<KubeObject>, 'resource'>) {
    const client =
      defaults.client ?? (defaults.kubeConfig ? new KubeClient(defaults.kubeConfig) : undefined);
    if (client === undefined) throw new TypeError('InformerFactory: give a client or a kubeConfig');
    this.#defaults = { ...defaults, client };
  }

  /** The informer for this resource, created on first use. */
  informerFor<T extends KubeObject = KubeObject>(
    resource: ResourceRef,
    options: {
      namespace?: string;
      labelSelector?: string;
      fieldSelector?: string;
      metadataOnly?: boolean;
      /**
       * This informer's transform instead of the factory's (see {@link Transform}). Compared by
       * identity: pass the same function (a module-level constant, not an inline closure) to
       * share the informer; each new function gets an informer, and a list and watch, of its own.
       */
      transform?: Transform<T>;
      /** This informer's fields to drop before parse instead of the factory's. */
      dropBeforeParse?: readonly FieldPath[];
    } = {},
  ): ListWatchInformerHandle<T> {
    const namespace = options.namespace ?? this.#defaults.namespace;
    const transform = options.transform as Transform | undefined;
    if (transform !== undefined && !this.#transformIds.has(transform)) {
      this.#transformIds.set(transform, this.#transformIds.size + 1);
    }
    const key = [
      resource.group,
      resource.version,
      resource.plural,
      namespace ?? '',
      options.labelSelector ?? '',
      options.fieldSelector ?? '',
      options.metadataOnly === true ? 'metadata' : '',
      transform === undefined ? '' : `transform-${this.#transformIds.get(transform)}`,
      JSON.stringify(options.dropBeforeParse ?? this.#defaults.dropBeforeParse ?? []),
    ].join('|');
    let informer = this.#informers.get(key);
    if (informer === undefined) {
      informer = createInformer<KubeObject>({
        ...this.#defaults,
        ...(options as Omit<typeof options, 'transform'>),
        ...(transform ? { transform } : {}),
        ...(namespace ? { namespace } : {}),
        resource,
      });
      this.#informers.set(key, informer);
    }
    return informer as unknown as ListWatchInformerHandle<T>;
  }

  /** Every informer made so far. */
  informers(): ListWatchInformerHandle<KubeObject>[] {
    return [...this.#informers.values()];
  }
}
