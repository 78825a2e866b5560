import type {
  EventHandler,
  HandlerRegistration,
  Informer,
  KubeObject,
  ObjectKey,
  ReadonlyStore,
  ResourceRef,
} from '../src/types.js';

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

/** An informer driven by hand: `sync()`, `add()`, `update()`, `remove()` deliver events. */
export class FakeInformer<T extends KubeObject = KubeObject> implements Informer<T> {
  readonly resource: ResourceRef;
  readonly namespace = 'default';
  readonly #objects = new Map<string, T>();
  readonly #handlers = new Set<EventHandler<T>>();
  readonly #indexes = new Map<string, (object: T) => string[]>();
  #synced = false;
  readonly #syncWaiters = new Set<(value: boolean) => void>();

  constructor(kind = 'Thing') {
    this.resource = {
      group: 'test.example',
      version: 'v1',
      plural: `${kind.toLowerCase()}s`,
      kind,
    };
  }

  readonly store: ReadonlyStore<T> = {
    get: (key: ObjectKey | string) =>
      this.#objects.get(typeof key === 'string' ? key : `${key.namespace}/${key.name}`),
    list: () => [...this.#objects.values()],
    keys: () => [...this.#objects.keys()],
    byIndex: (name, value) => {
      const fn = this.#indexes.get(name);
      return fn ? [...this.#objects.values()].filter((o) => fn(o).includes(value)) : [];
    },
    get size() {
      return 0;
    },
  };

  addEventHandler(handler: EventHandler<T>): HandlerRegistration {
    this.#handlers.add(handler);
    if (this.#synced) for (const o of this.#objects.values()) handler.onAdd?.(o, true);
    return { remove: () => this.#handlers.delete(handler) };
  }

  addIndex(name: string, indexFn: (object: T) => string[]): void {
    this.#indexes.set(name, indexFn);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.#syncWaiters.add(resolve);
      signal?.addEventListener('abort', () => resolve(false), { once: true });
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }

  sync(initial: T[] = []): void {
    for (const o of initial) this.add(o, true);
    this.#synced = true;
    for (const wake of this.#syncWaiters) wake(true);
    this.#syncWaiters.clear();
  }

  add(object: T, initial = false): void {
    this.#objects.set(keyOf(object), object);
    for (const h of this.#handlers) h.onAdd?.(object, initial);
  }

  update(object: T): void {
    const old = this.#objects.get(keyOf(object)) as T;
    this.#objects.set(keyOf(object), object);
    for (const h of this.#handlers) h.onUpdate?.(old, object);
  }

  remove(object: T): void {
    this.#objects.delete(keyOf(object));
    for (const h of this.#handlers) h.onDelete?.(object, false);
  }
}

export function object(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name, namespace: 'default' }, spec };
}
