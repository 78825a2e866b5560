import type { ChangeLog, ChangeLogPosition, RegistryChange } from './change-log.js';
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
  if (options.sinceVersion === undefined) return new ChangeFeed(log, log.end(), options.signal);
  const position = log.positionAfter(options.sinceVersion);
  if (position !== undefined) return new ChangeFeed(log, position, options.signal);
  const current = snapshot();
  const reset: RegistryChange = Object.freeze({
    version: current.version,
    upserted: current.backends,
    removed: NONE,
    reset: true,
  });
  return new ChangeFeed(log, log.end(), options.signal, reset);
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
  /** Where the feed has read to; undefined once it has ended. */
  #position: ChangeLogPosition | undefined;
  #pendingReset: RegistryChange | undefined;
  /** The `next()` waiting for the next change, and how to settle it. */
  #waiting: Promise<IteratorResult<RegistryChange>> | undefined;
  #settle: ((result: IteratorResult<RegistryChange>) => void) | undefined;
  /** Removes the signal's listener; set once the feed first waits. */
  #unlisten: (() => void) | undefined;
  readonly #wake = (): void => {
    const settle = this.#settle as (result: IteratorResult<RegistryChange>) => void;
    const change = this.#log.read(this.#position as ChangeLogPosition) as RegistryChange;
    this.#settle = undefined;
    this.#waiting = undefined;
    settle({ done: false, value: change });
  };

  constructor(
    log: ChangeLog,
    position: ChangeLogPosition,
    signal: AbortSignal | undefined,
    reset?: RegistryChange,
  ) {
    this.#log = log;
    this.#position = position;
    this.#signal = signal;
    this.#pendingReset = reset;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RegistryChange> {
    return this;
  }

  next(): Promise<IteratorResult<RegistryChange>> {
    // A next() while one waits: after it, in order.
    if (this.#waiting !== undefined) return this.#waiting.then(() => this.next());
    const position = this.#position;
    if (position === undefined || this.#signal?.aborted) return Promise.resolve(this.#end());
    const reset = this.#pendingReset;
    if (reset !== undefined) {
      this.#pendingReset = undefined;
      return Promise.resolve({ done: false, value: reset });
    }
    const change = this.#log.read(position);
    if (change !== undefined) return Promise.resolve({ done: false, value: change });
    if (this.#signal !== undefined && this.#unlisten === undefined) this.#listen(this.#signal);
    this.#waiting = new Promise((resolve) => {
      this.#settle = resolve;
    });
    this.#log.wait(this.#wake);
    return this.#waiting;
  }

  return(): Promise<IteratorResult<RegistryChange>> {
    return Promise.resolve(this.#end());
  }

  /** Ends the feed: a waiting next() and every later one are done; nothing is held any more. */
  #end(): IteratorResult<RegistryChange> {
    const done: IteratorResult<RegistryChange> = { done: true, value: undefined };
    const settle = this.#settle;
    this.#position = undefined;
    this.#pendingReset = undefined;
    this.#settle = undefined;
    this.#waiting = undefined;
    if (settle !== undefined) {
      this.#log.unwait(this.#wake);
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

/** The longest `timeoutMs` of a wait: a day (a Node timer cannot hold a month). */
const MAX_WAIT_TIMEOUT_MS = 86_400_000;

/** `waitForChange` of a registry whose changes are appended to `log`; `timeoutMs` is checked. */
export async function waitForLogChange(
  log: ChangeLog,
  sinceVersion: number,
  options: WaitOptions = {},
): Promise<{ changed: boolean; version: number }> {
  const { signal, timeoutMs } = options;
  if (timeoutMs !== undefined && !(timeoutMs >= 0 && timeoutMs <= MAX_WAIT_TIMEOUT_MS)) {
    throw new RangeError(
      `timeoutMs ${timeoutMs} is not a number of milliseconds from 0 to ${MAX_WAIT_TIMEOUT_MS} (24h)`,
    );
  }
  signal?.throwIfAborted();
  if (log.version !== sinceVersion) return { changed: true, version: log.version };
  const changed = await log.nextChange(signal, timeoutMs);
  signal?.throwIfAborted();
  return { changed, version: log.version };
}
