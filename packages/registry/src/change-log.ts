import type { Backend } from './backend.js';

/** One step of a dynamic registry's content, as published on its change feed. */
export interface RegistryChange {
  /** The registry version after the change. Consecutive changes have consecutive versions. */
  readonly version: number;
  /** Backends added or changed, in their new state. */
  readonly upserted: readonly Backend[];
  /** Ids of backends that were removed. */
  readonly removed: readonly string[];
  /**
   * True for a synthetic change that a subscriber resuming from a version older than the retained
   * history receives first: `upserted` is then the whole content and replaces whatever the
   * subscriber held.
   */
  readonly reset?: boolean;
}

/** Wakes a reader waiting for the next change. */
type Waiter = () => void;

/**
 * A run of consecutive changes of the log: `changes[i]` has version `first + i`. Every segment
 * but the newest holds {@link SEGMENT_SIZE} changes, unless a restart ended it early.
 */
export interface Segment {
  readonly first: number;
  readonly changes: RegistryChange[];
  next: Segment | undefined;
}

/** A reader's place in the log: it has read `segment.changes` up to `index` (excluded). */
export interface ChangeLogPosition {
  segment: Segment;
  index: number;
}

/**
 * Changes per segment. A change then costs its reader-visible object and a slot in an array
 * rather than a link object of its own: a replica in every client of a sidecar keeps up to
 * `historyLimit` of them, and each is copied by the young-generation collector until it is old.
 */
const SEGMENT_SIZE = 64;

function newSegment(first: number, change: RegistryChange | undefined): Segment {
  return { first, changes: change === undefined ? [] : [change], next: undefined };
}

/**
 * An append-only list of changes shared by every reader, kept as a linked list of segments.
 * Publishing costs the same whatever the number of readers (each waiting reader is woken once);
 * each reader walks the list at its own pace, so a slow one loses nothing and holds on only to
 * the segments it has not finished. The last `historyLimit` changes can be resumed after (up to
 * a segment more of them stays in memory).
 */
export class ChangeLog {
  #version: number;
  /** The oldest version a reader can resume after. */
  #floor: number;
  readonly #historyLimit: number;
  /** The segments holding resumable positions, oldest first; the last one is the newest. */
  readonly #segments: Segment[];
  /** Readers waiting for the next change: none, one, or a set once several wait. */
  #waiters: Waiter | Set<Waiter> | undefined;

  constructor(initialVersion: number, historyLimit: number) {
    this.#version = initialVersion;
    this.#floor = initialVersion;
    this.#historyLimit = historyLimit;
    this.#segments = [newSegment(initialVersion + 1, undefined)];
  }

  /** The version of the newest change, or the initial version. */
  get version(): number {
    return this.#version;
  }

  /** Appends the change after the newest one (its version is the next one). */
  append(change: RegistryChange): void {
    const segments = this.#segments;
    const last = segments[segments.length - 1] as Segment;
    if (last.changes.length < SEGMENT_SIZE) last.changes.push(change);
    else {
      last.next = newSegment(change.version, change);
      segments.push(last.next);
    }
    this.#version = change.version;
    this.#floor = Math.max(this.#floor, change.version - this.#historyLimit);
    // Segments whose every position is older than the floor are no longer resumable.
    while (segments.length > 1 && (segments[1] as Segment).first <= this.#floor + 1) {
      segments.shift();
    }
    this.#wake();
  }

  /**
   * Appends a change that starts a new line of versions (a `reset` of a replica): readers walking
   * the list reach it as usual, but versions before it can no longer be resumed from.
   */
  restart(change: RegistryChange): void {
    const segments = this.#segments;
    const next = newSegment(change.version, change);
    (segments[segments.length - 1] as Segment).next = next;
    segments.length = 0;
    segments.push(next);
    this.#version = change.version;
    this.#floor = change.version;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    if (waiters === undefined) return;
    this.#waiters = undefined;
    if (typeof waiters === 'function') waiters();
    else for (const wake of waiters) wake();
  }

  /**
   * The position after `version` (its reader reads the changes that followed it), or undefined
   * when that version is older than the retained history or not one this log has produced.
   */
  positionAfter(version: number): ChangeLogPosition | undefined {
    if (version === this.#version) return this.end();
    if (version < this.#floor || version > this.#version) return undefined;
    const first = this.#segments[0] as Segment;
    const segment = this.#segments[Math.floor((version + 1 - first.first) / SEGMENT_SIZE)];
    return segment && { segment, index: version + 1 - segment.first };
  }

  /** The position after the newest change: reading from it yields only changes to come. */
  end(): ChangeLogPosition {
    const segment = this.#segments[this.#segments.length - 1] as Segment;
    return { segment, index: segment.changes.length };
  }

  /** The change after `position`, moving it past that change; undefined when there is none yet. */
  read(position: ChangeLogPosition): RegistryChange | undefined {
    let { segment, index } = position;
    while (index === segment.changes.length) {
      if (segment.next === undefined) return undefined;
      segment = segment.next;
      index = 0;
    }
    position.segment = segment;
    position.index = index + 1;
    return segment.changes[index];
  }

  /**
   * Calls `wake` once, at the next change, unless {@link unwait} takes it back first. No timer,
   * no listener: the caller decides when to give up.
   */
  wait(wake: Waiter): void {
    const waiters = this.#waiters;
    if (waiters === undefined) this.#waiters = wake;
    else if (typeof waiters === 'function') this.#waiters = new Set([waiters, wake]);
    else waiters.add(wake);
  }

  /** Takes back a {@link wait} that has not been woken; does nothing once it has. */
  unwait(wake: Waiter): void {
    const waiters = this.#waiters;
    if (waiters === wake) this.#waiters = undefined;
    else if (typeof waiters === 'object') waiters.delete(wake);
  }

  /**
   * Resolves true at the next change, false when the signal aborts or the timeout passes first.
   * Never rejects.
   */
  nextChange(signal?: AbortSignal, timeoutMs?: number): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (changed: boolean): void => {
        this.unwait(wake);
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
        resolve(changed);
      };
      const wake = (): void => finish(true);
      const onAbort = (): void => finish(false);
      this.wait(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => finish(false), timeoutMs);
        timer.unref();
      }
    });
  }
}
