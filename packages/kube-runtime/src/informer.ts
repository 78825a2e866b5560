import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, ResourceClient } from './client.js';
import type { WatchMetrics } from './metrics.js';
import { dropManagedFields, Store, type StoreChange, type StoreReplacement } from './store.js';
import type {
  EventHandler,
  HandlerRegistration,
  Informer,
  KubeObject,
  Logger,
  ResourceRef,
} from './types.js';
import { silentLogger } from './types.js';
import { runWatcher, type WatchEvent, type WatcherOptions } from './watcher.js';

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
  /** Applied to every object before it is cached. Default: drop `metadata.managedFields`. */
  transform?: (object: T) => T;
  logger?: Logger;
  watcher?: Omit<WatcherOptions, 'labelSelector' | 'fieldSelector' | 'logger'>;
  /** Watch health metrics (e.g. `manager.metrics.watch`). */
  metrics?: WatchMetrics;
}

class ListWatchInformer<T extends KubeObject> implements Informer<T> {
  readonly resource: ResourceRef;
  readonly namespace: string | undefined;
  readonly store: Store<T>;
  readonly #client: ResourceClient<T>;
  readonly #options: InformerOptions<T>;
  readonly #logger: Logger;
  readonly #handlers = new Set<EventHandler<T>>();
  #synced = false;
  #lastSyncResourceVersion: string | undefined;
  readonly #syncWaiters = new Set<() => void>();
  #handlerErrors = 0;
  #skippedObjects = 0;
  #running = false;

  constructor(options: InformerOptions<T>) {
    const client =
      options.client ?? (options.kubeConfig ? new KubeClient(options.kubeConfig) : undefined);
    if (client === undefined) throw new TypeError('createInformer: give a client or a kubeConfig');
    this.resource = options.resource;
    this.namespace = options.namespace;
    this.#client = new ResourceClient<T>(client, options.resource, options.namespace, {
      metadataOnly: options.metadataOnly === true,
    });
    this.store = new Store<T>(
      options.metadataOnly ? metadataOnlyTransform(options.transform) : options.transform,
    );
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({
      informer: options.resource.plural,
      ...(options.namespace ? { namespace: options.namespace } : {}),
    });
  }

  /** The resourceVersion of the last completed (re)list. */
  get lastSyncResourceVersion(): string | undefined {
    return this.#lastSyncResourceVersion;
  }

  /** How many times a handler threw. */
  get handlerErrors(): number {
    return this.#handlerErrors;
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
      for (const object of this.store.list())
        this.#deliver({ type: 'add', object, isInInitialList: true }, [handler]);
    }
    return { remove: () => this.#handlers.delete(handler) };
  }

  addIndex(name: string, indexFn: (object: T) => string[]): void {
    this.store.addIndex(name, indexFn);
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
    const resource = this.resource.plural;
    const metrics = this.#options.metrics;
    // The caller's observer (if any) sees everything the metrics see.
    const observer = this.#options.watcher?.observer;
    // A (re)list is built aside object by object and swapped in at its end. Events arrive
    // synchronously as the stream is parsed: no promise per event.
    let replacement: StoreReplacement<T> | undefined;
    const onEvent = (event: WatchEvent<T>): void => {
      switch (event.type) {
        case 'init':
          replacement = this.store.beginReplace();
          break;
        case 'initApply':
          replacement ??= this.store.beginReplace();
          try {
            replacement.add(event.object);
          } catch (error) {
            this.#skip(event.object, error);
          }
          break;
        case 'initDone': {
          const changes = (replacement ?? this.store.beginReplace()).commit();
          replacement = undefined;
          this.#lastSyncResourceVersion = event.resourceVersion;
          this.#dispatch(changes);
          if (!this.#synced) {
            this.#synced = true;
            this.#logger.info({ objects: this.store.size }, 'synced');
            for (const wake of this.#syncWaiters) wake();
            this.#syncWaiters.clear();
          }
          break;
        }
        case 'apply':
        case 'delete': {
          // No closure here: this runs for every event.
          let change: StoreChange<T> | undefined;
          try {
            change =
              event.type === 'apply'
                ? this.store.apply(event.object)
                : this.store.delete(event.object);
          } catch (error) {
            this.#skip(event.object, error);
            break;
          }
          if (change) this.#deliver(change);
          break;
        }
        case 'bookmark':
          break;
      }
    };
    try {
      await runWatcher<T>(
        this.#client,
        {
          ...this.#options.watcher,
          ...(this.#options.labelSelector ? { labelSelector: this.#options.labelSelector } : {}),
          ...(this.#options.fieldSelector ? { fieldSelector: this.#options.fieldSelector } : {}),
          logger: this.#logger,
          observer: {
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
          },
        },
        signal,
        onEvent,
      );
    } finally {
      this.#running = false;
    }
  }

  /** Logs and counts an object the cache could not take; the stream goes on. */
  #skip(object: T, error: unknown): void {
    this.#skippedObjects++;
    this.#options.metrics?.skipped?.(this.resource.plural);
    const metadata = (object as { metadata?: { namespace?: unknown; name?: unknown } }).metadata;
    this.#logger.warn(
      {
        err: error instanceof Error ? error.message : String(error),
        namespace: typeof metadata?.namespace === 'string' ? metadata.namespace : undefined,
        name: typeof metadata?.name === 'string' ? metadata.name : undefined,
      },
      'object skipped: the cache cannot take it',
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
        this.#logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'event handler threw; continuing',
        );
      }
    }
  }
}

/**
 * Cuts an object down to what a metadata-only informer keeps. A `PartialObjectMetadata` has
 * nothing else and passes through as it is.
 */
function metadataOnlyTransform<T extends KubeObject>(
  transform: (object: T) => T = dropManagedFields,
): (object: T) => T {
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

/** An informer with its cache; see {@link Informer}. */
export type ListWatchInformerHandle<T extends KubeObject> = Informer<T> & {
  readonly store: Store<T>;
  readonly lastSyncResourceVersion: string | undefined;
  readonly handlerErrors: number;
  readonly skippedObjects: number;
};

/**
 * An informer: lists and watches one resource (in one namespace, with optional selectors),
 * keeps a frozen cache with indexes, and calls handlers in event order. A handler that throws is
 * logged and counted and never stops the stream. Relists are atomic (see `Store.replace`).
 */
export function createInformer<T extends KubeObject = KubeObject>(
  options: InformerOptions<T>,
): ListWatchInformerHandle<T> {
  return new ListWatchInformer<T>(options);
}

/**
 * Shares informers: one per resource, namespace and selector set, however many controllers ask.
 */
export class InformerFactory {
  readonly #defaults: Omit<InformerOptions<KubeObject>, 'resource'>;
  readonly #informers = new Map<string, ListWatchInformerHandle<KubeObject>>();

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
    } = {},
  ): ListWatchInformerHandle<T> {
    const namespace = options.namespace ?? this.#defaults.namespace;
    const key = [
      resource.group,
      resource.version,
      resource.plural,
      namespace ?? '',
      options.labelSelector ?? '',
      options.fieldSelector ?? '',
      options.metadataOnly === true ? 'metadata' : '',
    ].join('|');
    let informer = this.#informers.get(key);
    if (informer === undefined) {
      informer = createInformer<KubeObject>({
        ...this.#defaults,
        ...options,
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
