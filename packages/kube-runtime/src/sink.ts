import type { KubeObject } from './types.js';

/**
 * What a watcher yields (kube-rs style). A (re)list is framed by `init` … `initDone`: a consumer
 * builds the new state aside from the `initApply` objects and swaps it in at `initDone`, so a
 * relist is atomic for its readers. A new `init` before `initDone` discards the partial list.
 */
export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'init' }
  | { type: 'initApply'; object: T }
  | { type: 'initDone'; resourceVersion: string }
  | { type: 'apply'; object: T }
  | { type: 'delete'; object: T }
  | { type: 'bookmark'; resourceVersion: string };

/**
 * Receives a watcher's events, in order, synchronously as they are parsed. Returning a promise
 * (any thenable) pauses the watcher, and the stream it reads, until it settles: backpressure for
 * a consumer that cannot keep up; any other return value is ignored. A sink that throws stops
 * the watcher: `runWatcher` rejects with what it threw.
 */
export type WatchSink<T extends KubeObject = KubeObject> = (event: WatchEvent<T>) => unknown;

/**
 * A sink's own failure, told apart from the watcher's I/O failures so that it stops the watcher
 * instead of being retried.
 */
export class SinkError extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    super('watch sink failed');
    this.original = original;
  }
}

/**
 * Calls the sink; returns what to wait for when it asked for backpressure. A sink that throws, or
 * whose promise rejects, fails with a {@link SinkError}.
 */
export function deliver<T extends KubeObject>(
  sink: WatchSink<T>,
  event: WatchEvent<T>,
): PromiseLike<unknown> | undefined {
  let result: unknown;
  try {
    result = sink(event);
  } catch (error) {
    throw new SinkError(error);
  }
  if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') return undefined;
  return (result as PromiseLike<unknown>).then(undefined, (error: unknown) => {
    throw new SinkError(error);
  });
}

/**
 * Waits for a sink that still holds an event when its stream failed, so that it is never handed
 * the next event before it took the last one; gives up when the watcher stops. Rejects with a
 * {@link SinkError} when the sink's promise rejects.
 */
export async function released(holding: PromiseLike<unknown>, signal: AbortSignal): Promise<void> {
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      holding,
      new Promise<void>((resolve) => {
        onAbort = resolve;
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
