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

/** Wakes a reader waiting for the link after the one it holds. */
type Waiter = () => void;

/** A link of the change log: the change that produced `version` and a pointer to the next one. */
interface Link {
  readonly version: number;
  readonly change: RegistryChange | undefined;
  next: Link | undefined;
  /**
   * Readers waiting for `next`: none, one (the usual case for a replica, which has one reader),
   * or a set once several wait. A reader that gives up removes its own.
   */
  waiters: Waiter | Set<Waiter> | undefined;
}

function newLink(version: number, change: RegistryChange | undefined): Link {
  return { version, change, next: undefined, waiters: undefined };
}

/**
 * An append-only singly linked list of changes shared by every reader. Publishing costs the same
 * whatever the number of readers (each waiting reader is woken once); each reader walks the list
 * at its own pace, so a slow one loses nothing and holds on only to the links it has not read.
 * The last `historyLimit` links stay reachable so that a reader can resume from a version.
 */
export class ChangeLog {
  #last: Link;
  readonly #history: Link[] = [];
  readonly #historyLimit: number;

  constructor(initialVersion: number, historyLimit: number) {
    this.#last = newLink(initialVersion, undefined);
    this.#history.push(this.#last);
    // The newest `historyLimit` changes plus the link they follow.
    this.#historyLimit = historyLimit + 1;
  }

  /** The version of the newest change, or the initial version. */
  get version(): number {
    return this.#last.version;
  }

  append(change: RegistryChange): void {
    const link = this.#link(change);
    this.#history.push(link);
    if (this.#history.length > this.#historyLimit) this.#history.shift();
  }

  /**
   * Appends a change that starts a new line of versions (a `reset` of a replica): readers walking
   * the list reach it as usual, but versions before it can no longer be resumed from.
   */
  restart(change: RegistryChange): void {
    const link = this.#link(change);
    this.#history.length = 0;
    this.#history.push(link);
  }

  /** Links the change after the newest one and wakes the readers waiting for it. */
  #link(change: RegistryChange): Link {
    const link = newLink(change.version, change);
    const previous = this.#last;
    previous.next = link;
    this.#last = link;
    const waiters = previous.waiters;
    if (waiters !== undefined) {
      previous.waiters = undefined;
      if (typeof waiters === 'function') waiters();
      else for (const wake of waiters) wake();
    }
    return link;
  }

  /**
   * The link whose successors are the changes after `version`, or undefined when that version is
   * older than the retained history (or not a version this log has produced).
   */
  cursorAt(version: number): Link | undefined {
    if (version === this.#last.version) return this.#last;
    const first = this.#history[0];
    if (first === undefined) return undefined;
    const index = version - first.version;
    // The link for `version` is the one whose change produced it; readers continue after it.
    if (index < 0 || index >= this.#history.length) return undefined;
    return this.#history[index];
  }

  /** The newest link: reading from it yields only changes that happen from now on. */
  get cursor(): Link {
    return this.#last;
  }

  /**
   * Calls `wake` once, when the link after `cursor` exists (which it must not yet), unless
   * {@link unwait} removes it first. No timer, no listener: the caller decides when to give up.
   */
  wait(cursor: Link, wake: Waiter): void {
    const waiters = cursor.waiters;
    if (waiters === undefined) cursor.waiters = wake;
    else if (typeof waiters === 'function') cursor.waiters = new Set([waiters, wake]);
    else waiters.add(wake);
  }

  /** Takes back a {@link wait} that has not been woken; does nothing once it has. */
  unwait(cursor: Link, wake: Waiter): void {
    const waiters = cursor.waiters;
    if (waiters === wake) cursor.waiters = undefined;
    else if (typeof waiters === 'object') waiters.delete(wake);
  }

  /**
   * Resolves with the link after `cursor` once it exists; resolves undefined when the signal
   * aborts or the timeout passes first. Never rejects.
   */
  next(cursor: Link, signal?: AbortSignal, timeoutMs?: number): Promise<Link | undefined> {
    if (cursor.next !== undefined) return Promise.resolve(cursor.next);
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (link: Link | undefined): void => {
        this.unwait(cursor, wake);
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
        resolve(link);
      };
      const wake = (): void => finish(cursor.next);
      const onAbort = (): void => finish(undefined);
      this.wait(cursor, wake);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => finish(undefined), timeoutMs);
        timer.unref();
      }
    });
  }
}

export type { Link as ChangeLogCursor };
