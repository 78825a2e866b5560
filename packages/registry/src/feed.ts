import type { ChangeLog, ChangeLogCursor, RegistryChange } from './change-log.js';
import type { ChangesOptions, RegistrySnapshot, WaitOptions } from './registry.js';
import { NONE } from './values.js';

/**
 * The change feed of a registry whose changes are appended to `log`: what `changes()` returns,
 * shared by every registry that publishes through a {@link ChangeLog}.
 */
export function changeFeed(
  log: ChangeLog,
  snapshot: () => RegistrySnapshot,
  options: ChangesOptions = {},
): AsyncIterableIterator<RegistryChange> {
  if (options.sinceVersion === undefined) return new ChangeFeed(log, log.cursor, options.signal);
  const cursor = log.cursorAt(options.sinceVersion);
  if (cursor !== undefined) return new ChangeFeed(log, cursor, options.signal);
  const current = snapshot();
  const reset: RegistryChange = Object.freeze({
    version: current.version,
    upserted: current.backends,
    removed: NONE,
    reset: true,
  });
  return new ChangeFeed(log, log.cursor, options.signal, reset);
}

/**
 * Removes the abort listener of a feed that was dropped without being ended (never returned,
 * its signal never aborted), once the feed is collected.
 */
const dropped = new FinalizationRegistry<() => void>((unlisten) => unlisten());

/**
 * One reader of a change log. A `next()` that has to wait costs one promise and one entry in
 * the log's waiters: the signal gets one listener for the life of the feed, not one per wait,
 * and that listener reaches the feed only through a weak reference, so that a feed dropped
 * without being ended does not hold the log's changes from its position on.
 */
class ChangeFeed implements AsyncIterableIterator<RegistryChange> {
  readonly #log: ChangeLog;
  readonly #signal: AbortSignal | undefined;
  /** The link last read; undefined once the feed has ended. */
  #cursor: ChangeLogCursor | undefined;
  #pendingReset: RegistryChange | undefined;
  /** The `next()` waiting for the link after #cursor, and how to settle it. */
  #waiting: Promise<IteratorResult<RegistryChange>> | undefined;
  #settle: ((result: IteratorResult<RegistryChange>) => void) | undefined;
  /** Removes the signal's listener; set once the feed first waits. */
  #unlisten: (() => void) | undefined;
  readonly #wake = (): void => {
    const settle = this.#settle as (result: IteratorResult<RegistryChange>) => void;
    const link = (this.#cursor as ChangeLogCursor).next as ChangeLogCursor;
    this.#settle = undefined;
    this.#waiting = undefined;
    this.#cursor = link;
    settle({ done: false, value: link.change as RegistryChange });
  };

  constructor(
    log: ChangeLog,
    cursor: ChangeLogCursor,
    signal: AbortSignal | undefined,
    reset?: RegistryChange,
  ) {
    this.#log = log;
    this.#cursor = cursor;
    this.#signal = signal;
    this.#pendingReset = reset;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RegistryChange> {
    return this;
  }

  next(): Promise<IteratorResult<RegistryChange>> {
    // A next() while one waits: after it, in order.
    if (this.#waiting !== undefined) return this.#waiting.then(() => this.next());
    const cursor = this.#cursor;
    if (cursor === undefined || this.#signal?.aborted) return Promise.resolve(this.#end());
    const reset = this.#pendingReset;
    if (reset !== undefined) {
      this.#pendingReset = undefined;
      return Promise.resolve({ done: false, value: reset });
    }
    const link = cursor.next;
    if (link !== undefined) {
      this.#cursor = link;
      return Promise.resolve({ done: false, value: link.change as RegistryChange });
    }
    if (this.#signal !== undefined && this.#unlisten === undefined) this.#listen(this.#signal);
    this.#waiting = new Promise((resolve) => {
      this.#settle = resolve;
    });
    this.#log.wait(cursor, this.#wake);
    return this.#waiting;
  }

  return(): Promise<IteratorResult<RegistryChange>> {
    return Promise.resolve(this.#end());
  }

  /** Ends the feed: a waiting next() and every later one are done; nothing is held any more. */
  #end(): IteratorResult<RegistryChange> {
    const done: IteratorResult<RegistryChange> = { done: true, value: undefined };
    const cursor = this.#cursor;
    const settle = this.#settle;
    this.#cursor = undefined;
    this.#pendingReset = undefined;
    this.#settle = undefined;
    this.#waiting = undefined;
    if (cursor !== undefined && settle !== undefined) {
      this.#log.unwait(cursor, this.#wake);
      settle(done);
    }
    if (this.#unlisten !== undefined) {
      this.#unlisten();
      this.#unlisten = undefined;
      dropped.unregister(this);
    }
    return done;
  }

  #listen(signal: AbortSignal): void {
    const feed = new WeakRef(this);
    const onAbort = (): void => {
      feed.deref()?.return();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unlisten = () => signal.removeEventListener('abort', onAbort);
    dropped.register(this, this.#unlisten, this);
  }
}

/** `waitForChange` of a registry whose changes are appended to `log`. */
export async function waitForLogChange(
  log: ChangeLog,
  sinceVersion: number,
  options: WaitOptions = {},
): Promise<{ changed: boolean; version: number }> {
  const { signal, timeoutMs } = options;
  signal?.throwIfAborted();
  if (log.version !== sinceVersion) return { changed: true, version: log.version };
  const link = await log.next(log.cursor, signal, timeoutMs);
  signal?.throwIfAborted();
  return { changed: link !== undefined, version: log.version };
}
