import type { Backend } from './backend.js';
import { ChangeLog, type RegistryChange } from './change-log.js';
import { assertStorable } from './errors.js';
import { changeFeed, waitForLogChange } from './feed.js';
import { deepEqual, frozenCopy, NONE } from './values.js';

/** Version and content read together: nothing can change between the two. Frozen. */
export interface RegistrySnapshot {
  readonly version: number;
  /** Sorted by id. */
  readonly backends: readonly Backend[];
}

/**
 * The read side of a registry. Returned backends are deep-frozen: they cannot be used to change
 * the store (an attempt throws in strict mode), so they are shared rather than copied.
 */
export interface BackendRegistry {
  /** The backend with this id, or undefined (also for an empty id). Ids are case-sensitive. */
  get(id: string): Backend | undefined;
  /**
   * Every backend, sorted by id, as one frozen array. Repeated calls between two changes return
   * the same array: reading costs nothing once a change has been seen.
   */
  list(): readonly Backend[];
  count(): number;
  /** Moves by exactly one on every change of content; never moves otherwise. */
  readonly version: number;
  snapshot(): RegistrySnapshot;
}

/** One step of {@link DynamicRegistry.apply}. */
export type RegistryOperation =
  | { readonly op: 'upsert'; readonly backend: Backend }
  | { readonly op: 'remove'; readonly id: string };

/** Options of {@link DynamicRegistry.changes}. */
export interface ChangesOptions {
  /** Ends the iteration (without an error) when aborted. */
  signal?: AbortSignal;
  /**
   * Resume after this version: changes after it are replayed first. When it is older than the
   * retained history, the first change is a `reset` carrying the whole content. Default: the
   * current version (only future changes).
   */
  sinceVersion?: number;
}

/** Options of {@link DynamicRegistry.waitForChange}. */
export interface WaitOptions {
  signal?: AbortSignal;
  /**
   * Resolve with `changed: false` after this long without a change: 0 to 86,400,000 (24 h);
   * anything else rejects with a `RangeError`. Default: no timeout.
   */
  timeoutMs?: number;
}

/**
 * What a consumer of a dynamic registry reads: the content and its version, waits and the change
 * feed. The in-process {@link DynamicRegistry} is one; `@vmcp/registry-client` gives the same
 * across the pod boundary, so code written against this type (with {@link memoByVersion}) runs
 * unchanged on either.
 */
export interface RegistryReader extends BackendRegistry {
  /**
   * The change feed. No change is lost or reordered for a slow consumer; breaking out of the
   * loop or aborting the signal releases everything the iteration held.
   */
  changes(options?: ChangesOptions): AsyncIterableIterator<RegistryChange>;
  /**
   * Resolves as soon as the version differs from `sinceVersion` (at once if it already does),
   * with `changed: false` when the timeout passes first. Rejects with the signal's reason when
   * aborted.
   */
  waitForChange(
    sinceVersion: number,
    options?: WaitOptions,
  ): Promise<{ changed: boolean; version: number }>;
}

/** A registry whose content changes: the vMCP dynamic mode. */
export interface DynamicRegistry extends RegistryReader {
  /**
   * Stores a frozen copy of the backend. Returns true when the content changed (the version
   * moved); an upsert of a deep-equal backend changes nothing. Throws `InvalidBackendError` for
   * an empty id.
   */
  upsert(backend: Backend): boolean;
  /** Removes the backend. Returns true when it was present (the version moved). */
  remove(id: string): boolean;
  /**
   * Applies several upserts and removes atomically, with one version step when anything changed
   * (none otherwise). Validates every operation before changing anything. Returns the published
   * change, or undefined when the content did not change.
   */
  apply(operations: Iterable<RegistryOperation>): RegistryChange | undefined;
}

/** Options of {@link createDynamicRegistry}. */
export interface DynamicRegistryOptions {
  /** How many changes stay available for `changes({ sinceVersion })`. Default 1024. */
  historyLimit?: number;
  /**
   * The version to start at (a non-negative safe integer; default 0). A process whose versions
   * outlive it in clients (a server handing them out) starts from a value that grows with time,
   * so that a restarted process never hands out a version an earlier one did.
   */
  initialVersion?: number;
}

export const byId = (a: Backend, b: Backend): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class MapRegistry implements BackendRegistry {
  protected readonly backends = new Map<string, Backend>();
  #snapshot: RegistrySnapshot | undefined;

  constructor(initial: Iterable<Backend>, where: string) {
    for (const backend of initial) {
      assertStorable(backend, where);
      // Duplicate ids: the last one wins, as upstream.
      this.backends.set(backend.id, frozenCopy(backend));
    }
  }

  get version(): number {
    return 0;
  }

  get(id: string): Backend | undefined {
    return this.backends.get(id);
  }

  list(): readonly Backend[] {
    return this.snapshot().backends;
  }

  count(): number {
    return this.backends.size;
  }

  /**
   * Replaces the whole content with `sorted` (frozen, sorted by id, one backend per id), which
   * becomes the list at `version` as it is: a caller that sorted once does not pay for it twice.
   */
  protected replaceSorted(version: number, sorted: readonly Backend[]): void {
    this.backends.clear();
    for (const backend of sorted) this.backends.set(backend.id, backend);
    this.#snapshot = Object.freeze({ version, backends: sorted });
  }

  snapshot(): RegistrySnapshot {
    if (this.#snapshot === undefined || this.#snapshot.version !== this.version) {
      const backends = Object.freeze([...this.backends.values()].sort(byId));
      this.#snapshot = Object.freeze({ version: this.version, backends });
    }
    return this.#snapshot;
  }
}

/**
 * A map registry that publishes its changes through a {@link ChangeLog}: the version, the feed
 * and the waits shared by every kind of dynamic registry (the in-process one, a replica).
 */
export abstract class LoggedRegistry extends MapRegistry implements RegistryReader {
  protected readonly log: ChangeLog;

  protected constructor(initial: Iterable<Backend>, where: string, log: ChangeLog) {
    super(initial, where);
    this.log = log;
  }

  override get version(): number {
    return this.log.version;
  }

  changes(options: ChangesOptions = {}): AsyncIterableIterator<RegistryChange> {
    return changeFeed(this.log, () => this.snapshot(), options);
  }

  waitForChange(
    sinceVersion: number,
    options: WaitOptions = {},
  ): Promise<{ changed: boolean; version: number }> {
    return waitForLogChange(this.log, sinceVersion, options);
  }
}

class MutableRegistry extends LoggedRegistry implements DynamicRegistry {
  constructor(initial: Iterable<Backend>, options: DynamicRegistryOptions) {
    const start = options.initialVersion ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new TypeError(
        `createDynamicRegistry: initialVersion must be a non-negative safe integer, got ${String(start)}`,
      );
    }
    super(initial, 'createDynamicRegistry', new ChangeLog(start, options.historyLimit ?? 1024));
  }

  // upsert and remove are `apply` of one operation, without its batch bookkeeping: they are what
  // a reconciler calls for every change.
  upsert(backend: Backend): boolean {
    assertStorable(backend, 'upsert');
    const stored = this.#replacement(backend);
    if (stored === undefined) return false;
    this.backends.set(stored.id, stored);
    this.#publish(Object.freeze([stored]), NONE);
    return true;
  }

  remove(id: string): boolean {
    if (!this.backends.delete(id)) return false;
    this.#publish(NONE, Object.freeze([id]));
    return true;
  }

  apply(operations: Iterable<RegistryOperation>): RegistryChange | undefined {
    const upserted: Backend[] = [];
    const removed: string[] = [];
    for (const [id, next] of netEffect(operations)) {
      if (next === null) {
        if (this.backends.has(id)) removed.push(id);
      } else {
        const stored = this.#replacement(next);
        if (stored !== undefined) upserted.push(stored);
      }
    }
    if (upserted.length === 0 && removed.length === 0) return undefined;
    for (const id of removed) this.backends.delete(id);
    for (const backend of upserted) this.backends.set(backend.id, backend);
    return this.#publish(Object.freeze(upserted.sort(byId)), Object.freeze(removed.sort()));
  }

  /** What to store for `next`: a frozen copy, or undefined when a deep-equal one is stored. */
  #replacement(next: Backend): Backend | undefined {
    const current = this.backends.get(next.id);
    return current !== undefined && deepEqual(current, next) ? undefined : frozenCopy(next);
  }

  #publish(upserted: readonly Backend[], removed: readonly string[]): RegistryChange {
    const change: RegistryChange = Object.freeze({
      version: this.log.version + 1,
      upserted,
      removed,
    });
    this.log.append(change);
    return change;
  }
}

/**
 * The net effect of operations per id: the final backend, or null for a removal. Checks every
 * upserted backend first, so that a bad one changes nothing.
 */
function netEffect(operations: Iterable<RegistryOperation>): Map<string, Backend | null> {
  const steps = [...operations];
  for (const step of steps) if (step.op === 'upsert') assertStorable(step.backend, 'upsert');
  const net = new Map<string, Backend | null>();
  for (const step of steps) {
    if (step.op === 'upsert') net.set(step.backend.id, step.backend);
    else net.set(step.id, null);
  }
  return net;
}

/**
 * A registry that never changes: static mode. Duplicate ids: the last one wins. Its version is
 * always 0.
 */
export function createImmutableRegistry(backends: Iterable<Backend> = []): BackendRegistry {
  return new MapRegistry(backends, 'createImmutableRegistry');
}

/**
 * A registry for dynamic mode. It starts at version 0 (or `initialVersion`) whatever the initial
 * content (the baseline); every change of content moves the version by exactly one.
 *
 * @example
 * const registry = createDynamicRegistry();
 * registry.upsert({ id: 'fetch', name: 'fetch', baseUrl: 'http://fetch:8080/mcp',
 *   transportType: 'streamable-http', healthStatus: 'healthy', metadata: {} });
 * registry.version; // 1
 */
export function createDynamicRegistry(
  initial: Iterable<Backend> = [],
  options: DynamicRegistryOptions = {},
): DynamicRegistry {
  return new MutableRegistry(initial, options);
}
