import type { Backend } from './backend.js';
import { ChangeLog, type RegistryChange } from './change-log.js';
import { assertStorable } from './errors.js';
import { byId, LoggedRegistry, type RegistryReader } from './registry.js';
import { frozenCopy } from './values.js';

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
  reset(version: number, backends: Iterable<Backend>): RegistryChange;
  /**
   * Applies the source's next change: `change.version` must be the current version + 1.
   * Published as given, also when the content did not change as this replica sees it (a source
   * serving redacted views moves its version when a secret value changes). Throws, changing
   * nothing, for another version or a backend without an id.
   */
  applyChange(change: Omit<RegistryChange, 'reset'>): RegistryChange;
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

  reset(version: number, backends: Iterable<Backend>): RegistryChange {
    if (!Number.isSafeInteger(version) || version <= this.version) {
      throw new RangeError(
        `reset: version ${String(version)} is not above the current version ${this.version}`,
      );
    }
    const content = new Map<string, Backend>();
    for (const backend of backends) {
      assertStorable(backend, 'reset');
      content.set(backend.id, frozenCopy(backend));
    }
    this.backends.clear();
    for (const [id, backend] of content) this.backends.set(id, backend);
    const upserted = Object.freeze([...content.values()].sort(byId));
    const change: RegistryChange = Object.freeze({
      version,
      upserted,
      removed: Object.freeze([]),
      reset: true,
    });
    this.log.restart(change);
    return change;
  }

  applyChange(change: Omit<RegistryChange, 'reset'>): RegistryChange {
    if (change.version !== this.version + 1) {
      throw new RangeError(
        `applyChange: version ${String(change.version)} does not follow ${this.version}`,
      );
    }
    for (const backend of change.upserted) assertStorable(backend, 'applyChange');
    const upserted = Object.freeze(change.upserted.map(frozenCopy).sort(byId));
    const removed = Object.freeze([...change.removed].sort());
    for (const id of removed) this.backends.delete(id);
    for (const backend of upserted) this.backends.set(backend.id, backend);
    const published: RegistryChange = Object.freeze({ version: change.version, upserted, removed });
    this.log.append(published);
    return published;
  }
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
