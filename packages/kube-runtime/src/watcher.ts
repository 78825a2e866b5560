import type { Readable } from 'node:stream';
import { Backoff, type BackoffOptions } from './backoff.js';
import { ApiError, isGone, isTooLargeResourceVersion, type ResourceClient } from './client.js';
import { ListScanner } from './list-scanner.js';
import type { KubeObject, Logger } from './types.js';
import { silentLogger } from './types.js';

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

/** The watcher's states: one function, {@link transition}, moves between them. */
export type WatcherState =
  | { phase: 'listing' }
  | { phase: 'watching'; resourceVersion: string }
  | {
      phase: 'backingOff';
      delayMs: number;
      resume: { phase: 'listing' } | { phase: 'watching'; resourceVersion: string };
    }
  | { phase: 'stopped' };

/** What happened in the current state. */
export type WatcherInput =
  | { type: 'listed'; resourceVersion: string }
  | { type: 'listFailed'; delayMs: number }
  /** 410 Gone (HTTP or in-stream), an expired continue token, or a too large resourceVersion. */
  | { type: 'gone' }
  /** The server closed a healthy watch (timeout): resume from the last resourceVersion. */
  | { type: 'watchClosed'; resourceVersion: string }
  /** The watch failed, or closed at once without any event: resume after a delay. */
  | { type: 'watchFailed'; resourceVersion: string; delayMs: number }
  /** No bytes for the stall period: the watch was aborted; resume at once. */
  | { type: 'stalled'; resourceVersion: string }
  | { type: 'waited' }
  | { type: 'stop' };

/** The list → watch → relist state machine, as a pure function. */
export function transition(state: WatcherState, input: WatcherInput): WatcherState {
  if (input.type === 'stop' || state.phase === 'stopped') return { phase: 'stopped' };
  switch (state.phase) {
    case 'listing':
      if (input.type === 'listed')
        return { phase: 'watching', resourceVersion: input.resourceVersion };
      if (input.type === 'listFailed')
        return { phase: 'backingOff', delayMs: input.delayMs, resume: { phase: 'listing' } };
      if (input.type === 'gone') return { phase: 'listing' };
      return state;
    case 'watching':
      if (input.type === 'watchClosed' || input.type === 'stalled') {
        return { phase: 'watching', resourceVersion: input.resourceVersion };
      }
      if (input.type === 'gone') return { phase: 'listing' };
      if (input.type === 'watchFailed') {
        return {
          phase: 'backingOff',
          delayMs: input.delayMs,
          resume: { phase: 'watching', resourceVersion: input.resourceVersion },
        };
      }
      return state;
    case 'backingOff':
      return input.type === 'waited' ? state.resume : state;
  }
}

/** Observations for metrics. */
export interface WatchObserver {
  onRelist?(): void;
  onWatchRestart?(reason: 'closed' | 'failed' | 'stalled' | 'gone'): void;
  onEvent?(): void;
}

/** Options of {@link watch}. */
export interface WatcherOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of lists. Default 500. */
  pageSize?: number;
  /**
   * The first list may be served from the API server's watch cache (`resourceVersion=0`, cheap,
   * possibly a little stale); relists after 410 are consistent reads. Default true.
   */
  initialListFromCache?: boolean;
  /** Abort and resume a watch that delivers no bytes for this long. Default 5 minutes. */
  stallTimeoutMs?: number;
  /** Server-side watch timeout, drawn at random in this range per watch. Default 300-600 s. */
  watchTimeoutSeconds?: [number, number];
  backoff?: BackoffOptions;
  logger?: Logger;
  observer?: WatchObserver;
  random?: () => number;
  /**
   * Watch-list streaming (`sendInitialEvents`): the initial state arrives on the watch itself
   * instead of a separate list. `auto` (default) tries it once per client and resource and falls
   * back to list then watch when the server refuses it (kube-apiserver before the WatchList
   * feature answers 4xx); `always` never falls back; `never` always lists.
   */
  watchList?: 'auto' | 'always' | 'never';
}

/** What each client has learnt about watch-list support, per resource path. */
const watchListSupport = new WeakMap<object, Map<string, boolean>>();

/** The annotation of the bookmark that ends a watch-list's initial events. */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

const SHORT_WATCH_MS = 1000;

class StallError extends Error {}

/**
 * Splits a byte stream into lines, also when a line (or a UTF-8 character) spans chunks. Works on
 * the bytes: a newline byte never occurs inside a multi-byte character, so each complete line is
 * decoded once, straight from its chunk (pieces are joined only for a line that spans chunks).
 * Blank lines are skipped.
 */
class LineSplitter {
  /** Pieces of a line that spans chunks (no newline in them). */
  #pending: Buffer[] = [];
  #chunk: Buffer | undefined;
  #offset = 0;
  /** Chunks pushed while the current one still had lines to read. */
  #queued: Buffer[] = [];

  push(chunk: Buffer): void {
    if (this.#chunk === undefined) {
      this.#chunk = chunk;
      this.#offset = 0;
    } else this.#queued.push(chunk);
  }

  /** The next complete line, or undefined once the chunks pushed have none left. */
  next(): string | undefined {
    for (;;) {
      const chunk = this.#chunk;
      if (chunk === undefined) return undefined;
      const newline = chunk.indexOf(10, this.#offset);
      if (newline < 0) {
        if (this.#offset < chunk.length) this.#pending.push(chunk.subarray(this.#offset));
        this.#chunk = this.#queued.shift();
        this.#offset = 0;
        continue;
      }
      let line: string;
      if (this.#pending.length === 0) line = chunk.toString('utf8', this.#offset, newline);
      else {
        this.#pending.push(chunk.subarray(this.#offset, newline));
        line = Buffer.concat(this.#pending).toString('utf8');
        this.#pending = [];
      }
      this.#offset = newline + 1;
      if (!BLANK.test(line)) return line;
    }
  }

  /** What is left after the last newline, once the stream has ended. */
  rest(): string | undefined {
    const rest = Buffer.concat(this.#pending).toString('utf8');
    this.#pending = [];
    return BLANK.test(rest) ? undefined : rest;
  }
}

/** What a line handler asks of {@link consumeLines}: go on, stop reading, or wait for it. */
type LineResult = undefined | 'stop' | PromiseLike<unknown>;

const ignore = (): void => undefined;

/**
 * Reads a streaming body line by line, pushing each line to `onLine` as it arrives: no promise
 * per line or chunk, which a watch delivering hundreds of events a second would otherwise pay
 * for. While `onLine` returns a promise the body is paused (backpressure), from
 * `activity.held(promise)` to `activity.held(undefined)`. Resolves at the end of the body or when
 * `onLine` says `stop`; rejects when the body fails, closes before its end, or `onLine` throws.
 * The body is destroyed when reading stops early.
 */
function consumeLines(
  body: Readable,
  activity: { bytes(): void; held(until: PromiseLike<unknown> | undefined): void },
  onLine: (line: string) => LineResult,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const splitter = new LineSplitter();
    let settled = false;
    let waiting = false;
    let ended = false;
    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      body.off('error', finish);
      // Errors of a body no longer read (an abort after an early stop) are expected.
      body.on('error', ignore);
      if (!ended) body.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const handle = (line: string): boolean => {
      const result = onLine(line);
      if (result === undefined) return true;
      if (result === 'stop') {
        finish();
        return false;
      }
      waiting = true;
      body.pause();
      activity.held(result);
      result.then(() => {
        waiting = false;
        activity.held(undefined);
        if (settled) return;
        body.resume();
        drain();
      }, finish);
      return false;
    };
    const drain = (): void => {
      try {
        for (let line = splitter.next(); line !== undefined; line = splitter.next()) {
          if (!handle(line)) return;
        }
        if (!ended) return;
        const rest = splitter.rest();
        if (rest !== undefined && !handle(rest)) return;
        finish();
      } catch (error) {
        finish(error);
      }
    };
    const onData = (chunk: Buffer): void => {
      activity.bytes();
      splitter.push(chunk);
      if (!waiting) drain();
    };
    const onEnd = (): void => {
      ended = true;
      if (!waiting) drain();
    };
    const onClose = (): void => {
      if (!ended) finish(new Error('watch stream closed before its end'));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('close', onClose);
    body.once('error', finish);
  });
}

const BLANK = /^\s*$/;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref?.();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Receives a watcher's events, in order, synchronously as they are parsed. Returning a promise
 * (any thenable) pauses the watcher, and the stream it reads, until it settles: backpressure for
 * a consumer that cannot keep up; any other return value is ignored. A sink that throws stops
 * the watcher: {@link runWatcher} rejects with what it threw.
 */
export type WatchSink<T extends KubeObject = KubeObject> = (event: WatchEvent<T>) => unknown;

/** A sink's own failure, carried through the watcher's retry logic untouched. */
class SinkError extends Error {
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
function deliver<T extends KubeObject>(
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
 * the next event before it took the last one; gives up when the watcher stops.
 */
async function released(holding: PromiseLike<unknown>, signal: AbortSignal): Promise<void> {
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
  } catch (error) {
    if (error instanceof SinkError) throw error.original;
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Lists then watches a resource, forever: relists on 410 Gone (HTTP or in-stream) and on a too
 * large resourceVersion, resumes a closed watch from the last resourceVersion without a relist,
 * retries every other failure with jittered exponential backoff (honouring `Retry-After`), and
 * aborts and resumes a watch that stays silent past the stall timeout. Resolves only when the
 * signal aborts (or rejects with what the sink threw). resourceVersions are opaque: only passed
 * back to the server, never compared. Events go to `sink` as each line of the stream is parsed,
 * with no promise per event unless the sink asks for one (an informer's cache update is
 * synchronous); {@link watch} offers the same events as an async iterator.
 * The watcher owns the objects it parses: it sets `kind` and `apiVersion` on list items in place.
 */
export async function runWatcher<T extends KubeObject>(
  client: ResourceClient<T>,
  options: WatcherOptions,
  signal: AbortSignal,
  sink: WatchSink<T>,
): Promise<void> {
  const logger = (options.logger ?? silentLogger).child({
    resource: client.resource.plural,
    namespace: client.namespace,
  });
  const backoff = new Backoff(options.backoff);
  const random = options.random ?? Math.random;
  const [minTimeout, maxTimeout] = options.watchTimeoutSeconds ?? [300, 600];
  const stallMs = options.stallTimeoutMs ?? 300_000;
  const selectors = {
    ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
    ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
  };
  let first = options.initialListFromCache !== false;
  let state: WatcherState = { phase: 'listing' };
  // List items come without kind and apiVersion. The object was parsed for us alone, so they are
  // set in place rather than on a copy (a copy per object is garbage the size of the list).
  const withKind = (object: T): T => {
    if (!object.kind) {
      object.kind = client.resource.kind;
      object.apiVersion = apiVersionOf(client);
    }
    return object;
  };

  const failure = (error: unknown, what: string): number => {
    const retryAfter = error instanceof ApiError ? error.retryAfterSeconds : undefined;
    const delayMs = backoff.next(retryAfter);
    const code = error instanceof ApiError ? error.code : undefined;
    const fields = { err: describe(error), code, delayMs: Math.round(delayMs) };
    if (code === 401 || code === 403)
      logger.error(fields, `${what} not allowed: check credentials and RBAC; retrying`);
    else logger.warn(fields, `${what} failed; retrying`);
    return delayMs;
  };

  while (!signal.aborted) {
    if (state.phase === 'stopped') return;
    if (state.phase === 'backingOff') {
      await sleep(state.delayMs, signal);
      state = transition(state, signal.aborted ? { type: 'stop' } : { type: 'waited' });
      continue;
    }
    const supportKey = `${client.resource.group}/${client.resource.plural}`;
    let support = watchListSupport.get(client.client);
    if (support === undefined) {
      support = new Map();
      watchListSupport.set(client.client, support);
    }
    const watchListMode = options.watchList ?? 'auto';
    const useWatchList =
      state.phase === 'listing' &&
      (watchListMode === 'always' ||
        (watchListMode === 'auto' && support.get(supportKey) !== false));
    if (state.phase === 'listing' && !useWatchList) {
      options.observer?.onRelist?.();
      try {
        await deliver(sink, { type: 'init' });
        let continueToken: string | undefined;
        let resourceVersion = '';
        do {
          // Each page is read as a stream and each item handed on as soon as it is complete:
          // the answer is never held whole (a watch-cache list comes unpaginated).
          const page = await client.listStream(
            {
              ...selectors,
              limit: options.pageSize ?? 500,
              ...(continueToken
                ? { continue: continueToken }
                : { resourceVersion: first ? '0' : '' }),
            },
            signal,
          );
          const scanner = new ListScanner();
          for await (const chunk of page.body) {
            for (const item of scanner.push(chunk as Buffer)) {
              if (item === null || typeof item !== 'object') continue;
              const waiting = deliver(sink, { type: 'initApply', object: withKind(item as T) });
              if (waiting) await waiting;
            }
          }
          const metadata = scanner.finish();
          continueToken = metadata.continue || undefined;
          resourceVersion = metadata.resourceVersion ?? '';
        } while (continueToken);
        first = false;
        await deliver(sink, { type: 'initDone', resourceVersion });
        state = transition(state, { type: 'listed', resourceVersion });
      } catch (error) {
        if (error instanceof SinkError) throw error.original;
        if (signal.aborted) return;
        if (isGone(error)) {
          // An expired continue token: start the list again, consistently.
          logger.info('list continue token expired; listing again');
          first = false;
          state = transition(state, { type: 'gone' });
        } else {
          state = transition(state, { type: 'listFailed', delayMs: failure(error, 'list') });
        }
      }
      continue;
    }

    // Watching; or a watch-list, whose stream starts with the initial state and goes on as a watch.
    let pendingInitial = state.phase === 'listing';
    if (pendingInitial) {
      options.observer?.onRelist?.();
      try {
        await deliver(sink, { type: 'init' });
      } catch (error) {
        throw error instanceof SinkError ? error.original : error;
      }
      if (signal.aborted) return;
    }
    let resourceVersion = state.phase === 'watching' ? state.resourceVersion : '';
    let events = 0;
    const started = performance.now();
    const controller = new AbortController();
    const abortOnStop = () => controller.abort(signal.reason);
    signal.addEventListener('abort', abortOnStop, { once: true });
    // One timer, pushed back (not replaced) whenever bytes arrive. While the sink holds the stream
    // the silence is ours, not the server's: the clock starts again when reading does.
    let holding: PromiseLike<unknown> | undefined;
    let reading = true;
    const stallTimer = setTimeout(() => {
      if (holding !== undefined) stallTimer.refresh();
      else controller.abort(new StallError('no bytes'));
    }, stallMs);
    stallTimer.unref();
    const activity = {
      bytes: () => stallTimer.refresh(),
      held: (until: PromiseLike<unknown> | undefined) => {
        holding = until;
        if (until === undefined && reading) stallTimer.refresh();
      },
    };
    let outcome: WatcherInput;
    try {
      const timeoutSeconds = Math.round(minTimeout + random() * (maxTimeout - minTimeout));
      const response = await client.watch(
        {
          ...selectors,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          ...(pendingInitial
            ? { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' }
            : {}),
        },
        controller.signal,
      );
      let gone = false;
      // Each line is handled as it arrives; the sink is awaited only when it asks to be.
      const onLine = (line: string): LineResult => {
        let event: { type?: string; object?: T };
        try {
          event = JSON.parse(line);
        } catch {
          throw new Error('watch stream carried a line that is not JSON');
        }
        const object = event.object;
        if (event.type === 'ERROR') {
          const status = object as unknown as { code?: number; reason?: string; message?: string };
          if (status.code === 410) {
            gone = true;
            return 'stop';
          }
          throw new ApiError(status.code ?? 500, status as never, 'watch (in-stream error)');
        }
        if (object === undefined || typeof object !== 'object') return undefined;
        events++;
        options.observer?.onEvent?.();
        const nextVersion = object.metadata?.resourceVersion;
        if (nextVersion) resourceVersion = nextVersion;
        if (pendingInitial) {
          // The initial state, ended by an annotated bookmark; then the stream is a watch.
          if (event.type === 'ADDED') {
            return deliver(sink, { type: 'initApply', object: withKind(object) });
          }
          if (
            event.type === 'BOOKMARK' &&
            object.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true'
          ) {
            pendingInitial = false;
            support.set(supportKey, true);
            first = false;
            const waiting = deliver(sink, { type: 'initDone', resourceVersion });
            state = transition(state, { type: 'listed', resourceVersion });
            return waiting;
          }
          return undefined;
        }
        if (event.type === 'BOOKMARK') return deliver(sink, { type: 'bookmark', resourceVersion });
        if (event.type === 'DELETED') {
          return deliver(sink, { type: 'delete', object: withKind(object) });
        }
        if (event.type === 'ADDED' || event.type === 'MODIFIED') {
          return deliver(sink, { type: 'apply', object: withKind(object) });
        }
        return undefined;
      };
      await consumeLines(response.body, activity, onLine);
      if (gone) {
        logger.info({ resourceVersion }, 'watch expired (410 Gone in stream); relisting');
        outcome = { type: 'gone' };
      } else if (pendingInitial) {
        // The stream ended before the initial state did: start again after a delay.
        outcome = {
          type: 'listFailed',
          delayMs: failure(
            new Error('watch-list ended before its initial events did'),
            'watch-list',
          ),
        };
      } else if (events === 0 && performance.now() - started < SHORT_WATCH_MS) {
        outcome = {
          type: 'watchFailed',
          resourceVersion,
          delayMs: failure(new Error('watch closed at once without events'), 'watch'),
        };
      } else {
        if (events > 0) backoff.reset();
        outcome = { type: 'watchClosed', resourceVersion };
      }
    } catch (error) {
      if (error instanceof SinkError) throw error.original;
      if (signal.aborted) return;
      const reason = controller.signal.reason;
      const refused =
        error instanceof ApiError &&
        (error.code === 400 || error.code === 415 || error.code === 422);
      if (pendingInitial && events === 0 && refused && watchListMode === 'auto') {
        // The server does not know watch-list (or has it turned off): list then watch from now on.
        support.set(supportKey, false);
        logger.info(
          { code: (error as ApiError).code, err: describe(error) },
          'watch-list not supported by the server; listing then watching',
        );
        outcome = { type: 'gone' };
      } else if (reason instanceof StallError) {
        logger.warn({ stallMs, resourceVersion }, 'watch stalled: no bytes in time; resuming');
        outcome = { type: 'stalled', resourceVersion };
      } else if (isGone(error) || isTooLargeResourceVersion(error)) {
        logger.info({ resourceVersion }, 'watch expired (410 Gone); relisting');
        outcome = { type: 'gone' };
      } else {
        outcome = { type: 'watchFailed', resourceVersion, delayMs: failure(error, 'watch') };
      }
    } finally {
      reading = false;
      clearTimeout(stallTimer);
      signal.removeEventListener('abort', abortOnStop);
      controller.abort();
    }
    // A sink still holding an event when its stream failed takes it before it gets another.
    if (holding !== undefined) await released(holding, signal);
    if (signal.aborted) return;
    if (pendingInitial) {
      // Still listing: a failure before the end of the initial events lists again (after the
      // backoff for a failure; at once for a stall, a 410 or a refused watch-list).
      state =
        outcome.type === 'watchFailed' || outcome.type === 'listFailed'
          ? { phase: 'backingOff', delayMs: outcome.delayMs, resume: { phase: 'listing' } }
          : { phase: 'listing' };
      continue;
    }
    options.observer?.onWatchRestart?.(
      outcome.type === 'gone'
        ? 'gone'
        : outcome.type === 'stalled'
          ? 'stalled'
          : outcome.type === 'watchFailed'
            ? 'failed'
            : 'closed',
    );
    state = transition(state, outcome);
  }
}

/**
 * {@link runWatcher} as an async iterator (kube-rs style): the same events, pulled. The watcher
 * reads ahead by at most one event (it waits, with its stream paused, until the consumer takes
 * it), so a slow consumer holds the stream back instead of buffering it. Ends when the signal
 * aborts or the consumer stops iterating.
 */
export async function* watch<T extends KubeObject>(
  client: ResourceClient<T>,
  options: WatcherOptions,
  signal: AbortSignal,
): AsyncGenerator<WatchEvent<T>> {
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal.reason);
  if (signal.aborted) return;
  signal.addEventListener('abort', onAbort, { once: true });
  const queue: WatchEvent<T>[] = [];
  let wakeConsumer: (() => void) | undefined;
  let releaseWatcher: (() => void) | undefined;
  let finished = false;
  let failure: { error: unknown } | undefined;
  const wake = () => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  const running = runWatcher(client, options, stop.signal, (event) => {
    queue.push(event);
    wake();
    return new Promise<void>((resolve) => {
      releaseWatcher = resolve;
    });
  }).then(
    () => {
      finished = true;
      wake();
    },
    (error: unknown) => {
      failure = { error };
      finished = true;
      wake();
    },
  );
  try {
    for (;;) {
      const event = queue.shift();
      if (event !== undefined) {
        releaseWatcher?.();
        releaseWatcher = undefined;
        yield event;
        continue;
      }
      if (failure) throw failure.error;
      if (finished) return;
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    stop.abort();
    releaseWatcher?.();
    await running;
  }
}

function apiVersionOf(client: ResourceClient<KubeObject>): string {
  const { group, version } = client.resource;
  return group ? `${group}/${version}` : version;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
