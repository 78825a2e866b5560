import type { ChangeLog, ChangeLogCursor, RegistryChange } from './change-log.js';
import type { ChangesOptions, RegistrySnapshot, WaitOptions } from './registry.js';

const NONE: readonly never[] = Object.freeze([]);

/**
 * The change feed of a registry whose changes are appended to `log`: what `changes()` returns,
 * shared by every registry that publishes through a {@link ChangeLog}.
 */
export function changeFeed(
  log: ChangeLog,
  snapshot: () => RegistrySnapshot,
  options: ChangesOptions = {},
): AsyncIterableIterator<RegistryChange> {
  const { signal } = options;
  let pendingReset: RegistryChange | undefined;
  let cursor: ChangeLogCursor | undefined;
  if (options.sinceVersion === undefined) {
    cursor = log.cursor;
  } else {
    cursor = log.cursorAt(options.sinceVersion);
    if (cursor === undefined) {
      const current = snapshot();
      cursor = log.cursor;
      pendingReset = Object.freeze({
        version: current.version,
        upserted: current.backends,
        removed: NONE,
        reset: true,
      });
    }
  }
  let done = false;
  const finish = (): IteratorResult<RegistryChange> => {
    done = true;
    cursor = undefined;
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<RegistryChange> = {
    [Symbol.asyncIterator]: () => iterator,
    next: async () => {
      if (done || cursor === undefined || signal?.aborted) return finish();
      if (pendingReset !== undefined) {
        const value = pendingReset;
        pendingReset = undefined;
        return { done: false, value };
      }
      const link = await log.next(cursor, signal);
      if (link === undefined || done) return finish();
      cursor = link;
      return { done: false, value: link.change as RegistryChange };
    },
    return: async () => finish(),
  };
  return iterator;
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
