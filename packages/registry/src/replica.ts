import type { Backend } from './backend.js';
import { ChangeLog, type RegistryChange } from './change-log.js';
import { assertStorable } from './errors.js';
import { byId, LoggedRegistry, type RegistryReader } from './registry.js';
import { frozenCopy, frozenInPlace, NONE } from './values.js';

/**
 * A registry that mirrors one held elsewhere (in another process): its content and versions are
 * the source's, set from outside, and it serves them through the same {@link RegistryReader}
 * as an in-process registry. `@vmcp/registry-client` keeps one in step with the sidecar.
 */
export interface RegistryReplica extends RegistryReader {
  /**
   * Replaces the whole content with the source's at `version`, which must be above the current
   * version (versions never go back, so nothing derived at an earlier version is ever taken for
   * current). Publishes a `reset` change carrying the whole content; readers resuming from a
   * version before it get a reset too. Throws `InvalidBackendError` for a backend without an id,
   * changing nothing.
   */
  reset(
    version: number,
    backends: Iterable<Backend>,
    options?: ReplicaUpdateOptions,
  ): RegistryChange;
  /**
   * Applies the source's next change: `change.version` must be the current version + 1.
   * Published as given, also when the content did not change as this replica sees it (a source
   * serving redacted views moves its version when a secret value changes). Throws, changing
   * nothing, for another version or a backend without an id.
   */
  applyChange(
    change: Omit<RegistryChange, 'reset'>,
    options?: ReplicaUpdateOptions,
  ): RegistryChange;
}

/** Options of {@link RegistryReplica.reset} and {@link RegistryReplica.applyChange}. */
export interface ReplicaUpdateOptions {
  /**
   * Hands the given backends over (with `applyChange`, its `upserted` and `removed` arrays
   * too): the replica freezes them in place and keeps them instead of keeping frozen copies.
   * For data nothing else holds, such as what `JSON.parse` just returned: they are frozen
   * afterwards. Default false: the replica keeps frozen copies, and the caller's objects stay
   * as they are.
   */
  adopt?: boolean;
}

/** Options of {@link createRegistryReplica}. */
export interface RegistryReplicaOptions {
  /** How many changes stay available for `changes({ sinceVersion })`. Default 1024. */
  historyLimit?: number;
  /** The version before the first reset. Default 0. */
  initialVersion?: number;
}

class ReplicaRegistry extends LoggedRegistry implements RegistryReplica {
  constructor(options: RegistryReplicaOptions) {
    const log = new ChangeLog(options.initialVersion ?? 0, options.historyLimit ?? 1024);
    super([], 'createRegistryReplica', log);
  }

  reset(
    version: number,
    backends: Iterable<Backend>,
    options: ReplicaUpdateOptions = {},
  ): RegistryChange {
    if (!Number.isSafeInteger(version) || version <= this.version) {
      throw new RangeError(
        `reset: version ${String(version)} is not above the current version ${this.version}`,
      );
    }
    const take = options.adopt ? frozenInPlace : frozenCopy;
    const content = new Map<string, Backend>();
    for (const backend of backends) {
      assertStorable(backend, 'reset');
      content.set(backend.id, take(backend));
    }
    // Sorted once: the reset change and the list share the array.
    const upserted = Object.freeze([...content.values()].sort(byId));
    this.replaceSorted(version, upserted);
    const change: RegistryChange = Object.freeze({ version, upserted, removed: NONE, reset: true });
    this.log.restart(change);
    return change;
  }

  applyChange(
    change: Omit<RegistryChange, 'reset'>,
    options: ReplicaUpdateOptions = {},
  ): RegistryChange {
    if (change.version !== this.version + 1) {
      throw new RangeError(
        `applyChange: version ${String(change.version)} does not follow ${this.version}`,
      );
    }
    for (const backend of change.upserted) assertStorable(backend, 'applyChange');
    const adopt = options.adopt === true;
    const upserted = sortedFrozen(change.upserted, adopt, adopt ? frozenInPlace : frozenCopy, byId);
    const removed = sortedFrozen(change.removed, adopt, asIs);
    for (const id of removed) this.backends.delete(id);
    for (const backend of upserted) this.backends.set(backend.id, backend);
    const published: RegistryChange = Object.freeze({ version: change.version, upserted, removed });
    this.log.append(published);
    return published;
  }
}

const asIs = <T>(value: T): T => value;

/**
 * `items` sorted and frozen, each item passed through `freeze`: the array itself when it is
 * adopted (and not frozen already), a new one otherwise, and the shared empty array for none.
 */
function sortedFrozen<T>(
  items: readonly T[],
  adopt: boolean,
  freeze: (item: T) => T,
  compare?: (a: T, b: T) => number,
): readonly T[] {
  if (items.length === 0) return NONE;
  const sorted = adopt && !Object.isFrozen(items) ? (items as T[]) : [...items];
  for (let i = 0; i < sorted.length; i++) sorted[i] = freeze(sorted[i] as T);
  if (sorted.length > 1) sorted.sort(compare);
  return Object.freeze(sorted);
}

/**
 * A replica of a registry held elsewhere, empty at `initialVersion` (default 0) until its first
 * {@link RegistryReplica.reset}.
 *
 * @example
 * const replica = createRegistryReplica();
 * replica.reset(41, backendsFromTheSource);
 * replica.applyChange({ version: 42, upserted: [changed], removed: [] });
 */
export function createRegistryReplica(options: RegistryReplicaOptions = {}): RegistryReplica {
  return new ReplicaRegistry(options);
}
