import {
  createRegistryReplica,
  deepEqual,
  type RegistryReplica,
  type ReplicaUpdateOptions,
} from '@vmcp/registry';
import { type BackendList, type Change, ProtocolError } from './protocol.js';

/** The replica takes what was parsed from an answer instead of copying it. */
const ADOPT: ReplicaUpdateOptions = Object.freeze({ adopt: true });
const ACCESS = new Set(['secrets', 'redacted']);

/** Options of {@link SidecarReplica}. */
export interface SidecarReplicaOptions {
  /** Changes kept for `changes({ sinceVersion })`. */
  historyLimit: number;
  /** Called once, when the first snapshot is held, with the sidecar's version of it. */
  onSynced(sidecarVersion: number): void;
}

/**
 * What the client holds of the sidecar's registry: a `@vmcp/registry` replica (the reader every
 * read and feed goes to) and the line of versions that maps the sidecar's onto it. The transport
 * sessions hand it what they parsed (snapshots, changes, long-poll lists, announced versions)
 * and it decides what each means: a change, a reset, a replay to skip, or a protocol error.
 */
export class SidecarReplica {
  /** The read side: versions here never go back, also across sidecar restarts. */
  readonly reader: RegistryReplica;
  readonly #onSynced: (sidecarVersion: number) => void;
  /** Added to the sidecar's versions so that ours never go back (see takeSnapshot). */
  #offset = 0;
  /** The newest version the held sidecar announced (heartbeats, answers), for the lag. */
  #announced = 0;
  #synced = false;
  #resets = 0;
  #access: 'secrets' | 'redacted' | undefined;

  constructor(options: SidecarReplicaOptions) {
    this.reader = createRegistryReplica({ historyLimit: options.historyLimit });
    this.#onSynced = options.onSynced;
  }

  /** True once the first snapshot is held. Stays true. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Snapshots taken after the first (sidecar restarts, resumes past its history, gaps). */
  get resets(): number {
    return this.#resets;
  }

  /** What the sidecar said of its answers' secret values (`vmcp-access`); undefined before. */
  get access(): 'secrets' | 'redacted' | undefined {
    return this.#access;
  }

  /** The sidecar's version of what is held; undefined before the first snapshot. */
  get sidecarVersion(): number | undefined {
    return this.#synced ? this.reader.version - this.#offset : undefined;
  }

  /** Versions the sidecar announced beyond what is held (0 when current, and before a sync). */
  get versionLag(): number {
    const held = this.sidecarVersion;
    return held === undefined ? 0 : Math.max(0, this.#announced - held);
  }

  /** A version the sidecar said it is at (a heartbeat, an answer). */
  announce(version: number): void {
    if (version > this.#announced) this.#announced = version;
  }

  /** The `vmcp-access` header of an answer; anything but `secrets` or `redacted` is ignored. */
  noteAccess(value: string | string[] | undefined): void {
    if (typeof value === 'string' && ACCESS.has(value)) {
      this.#access = value as 'secrets' | 'redacted';
    }
  }

  /**
   * The whole content: the first snapshot, a resume past the sidecar's history, or a restarted
   * sidecar. Our versions are the sidecar's; only if its version went back (its clock stepped
   * back across a restart, or a server that starts at 0) are they shifted up, so that a version
   * never names two contents and nothing derived with `memoByVersion` is taken for current.
   * What was announced before it (by an earlier sidecar, maybe far ahead) is forgotten.
   */
  takeSnapshot(list: BackendList): void {
    const current = this.reader.version;
    const version = list.version > current ? list.version : current + 1;
    this.#offset = version - list.version;
    this.#announced = list.version;
    // What the sidecar sent was parsed for this call alone: the replica keeps it, frozen.
    this.reader.reset(version, list.backends, ADOPT);
    if (this.#synced) {
      this.#resets++;
      return;
    }
    this.#synced = true;
    this.#onSynced(list.version);
  }

  /**
   * The change after the one held: true when applied, false for one already held (a replay
   * after a resume). A change that does not follow, or one before any snapshot, is a
   * {@link ProtocolError}, changing nothing.
   */
  takeChange(change: Change): boolean {
    const held = this.sidecarVersion;
    if (held === undefined) throw new ProtocolError('a change before any snapshot');
    if (change.version <= held) return false;
    if (change.version !== held + 1) {
      throw new ProtocolError(`change ${change.version} does not follow ${held}`);
    }
    this.announce(change.version);
    const { upserted, removed } = change;
    this.reader.applyChange({ version: change.version + this.#offset, upserted, removed }, ADOPT);
    return true;
  }

  /**
   * A long-poll answer: the next version becomes a change (what the stream would have sent), a
   * jump of several a reset: the changes in between are not known, and a gap is never silent.
   */
  takeList(list: BackendList): void {
    this.announce(list.version);
    const held = this.sidecarVersion;
    if (held === undefined || list.version !== held + 1) {
      this.takeSnapshot(list);
      return;
    }
    const ids = new Set(list.backends.map((backend) => backend.id));
    const upserted = list.backends.filter((backend) => {
      const before = this.reader.get(backend.id);
      return before === undefined || !deepEqual(before, backend);
    });
    const removed = this.reader
      .list()
      .filter((backend) => !ids.has(backend.id))
      .map((backend) => backend.id);
    this.reader.applyChange({ version: list.version + this.#offset, upserted, removed }, ADOPT);
  }
}
