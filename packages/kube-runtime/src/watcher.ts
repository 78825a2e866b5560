import { Backoff, type BackoffOptions } from './backoff.js';
import { ApiError, isGone, isTooLargeResourceVersion, type ResourceClient } from './client.js';
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
 * Reads a byte stream line by line, also when a line (or a UTF-8 character) spans chunks. Works on
 * the bytes: a newline byte never occurs inside a multi-byte character, so each complete line is
 * decoded once, straight from its chunk (pieces are joined only for a line that spans chunks).
 * Blank lines are skipped. `onBytes` is called for every chunk.
 */
class LineReader {
  readonly #body: AsyncIterator<Buffer>;
  readonly #onBytes: () => void;
  #pending: Buffer[] = [];
  #chunk: Buffer | undefined;
  #offset = 0;

  constructor(body: AsyncIterable<Buffer>, onBytes: () => void) {
    this.#body = body[Symbol.asyncIterator]();
    this.#onBytes = onBytes;
  }

  /** The next line, or undefined at the end of the stream. Rejects when the stream fails. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const line = this.#nextBuffered();
      if (line !== undefined) return line;
      const read = await this.#body.next();
      if (read.done) return this.#rest();
      this.#onBytes();
      this.#chunk = read.value;
      this.#offset = 0;
    }
  }

  /** Stops reading (releases the stream). */
  async close(): Promise<void> {
    await this.#body.return?.();
  }

  #nextBuffered(): string | undefined {
    for (;;) {
      const chunk = this.#chunk;
      if (chunk === undefined) return undefined;
      const newline = chunk.indexOf(10, this.#offset);
      if (newline < 0) {
        if (this.#offset < chunk.length) this.#pending.push(chunk.subarray(this.#offset));
        this.#chunk = undefined;
        return undefined;
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

  #rest(): string | undefined {
    const rest = Buffer.concat(this.#pending).toString('utf8');
    this.#pending = [];
    return BLANK.test(rest) ? undefined : rest;
  }
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
 * Lists then watches a resource, forever: relists on 410 Gone (HTTP or in-stream) and on a too
 * large resourceVersion, resumes a closed watch from the last resourceVersion without a relist,
 * retries every other failure with jittered exponential backoff (honouring `Retry-After`), and
 * aborts and resumes a watch that stays silent past the stall timeout. Ends only when the signal
 * aborts. resourceVersions are opaque: only passed back to the server, never compared.
 * The watcher owns what the client returns: it sets `kind` and `apiVersion` on list items in
 * place and empties each page as it hands the objects on.
 */
export async function* watch<T extends KubeObject>(
  client: ResourceClient<T>,
  options: WatcherOptions,
  signal: AbortSignal,
): AsyncGenerator<WatchEvent<T>> {
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
      yield { type: 'init' };
      try {
        let continueToken: string | undefined;
        let resourceVersion = '';
        do {
          const page = await client.listPage(
            {
              ...selectors,
              limit: options.pageSize ?? 500,
              ...(continueToken
                ? { continue: continueToken }
                : { resourceVersion: first ? '0' : '' }),
            },
            signal,
          );
          const { items } = page;
          for (let i = 0; i < items.length; i++) {
            const object = withKind(items[i] as T);
            // Hand each raw object on and let the page forget it: a page of them would otherwise
            // stay reachable (and be promoted by the GC) until its last object is consumed.
            items[i] = undefined as unknown as T;
            yield { type: 'initApply', object };
          }
          continueToken = page.metadata.continue || undefined;
          resourceVersion = page.metadata.resourceVersion ?? '';
        } while (continueToken);
        first = false;
        yield { type: 'initDone', resourceVersion };
        state = transition(state, { type: 'listed', resourceVersion });
      } catch (error) {
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
      yield { type: 'init' };
    }
    let resourceVersion = state.phase === 'watching' ? state.resourceVersion : '';
    let events = 0;
    const started = performance.now();
    const controller = new AbortController();
    const abortOnStop = () => controller.abort(signal.reason);
    signal.addEventListener('abort', abortOnStop, { once: true });
    // One timer, pushed back (not replaced) whenever bytes arrive.
    const stallTimer = setTimeout(() => controller.abort(new StallError('no bytes')), stallMs);
    stallTimer.unref();
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
      const lines = new LineReader(response.body, () => stallTimer.refresh());
      try {
        for (let line = await lines.next(); line !== undefined; line = await lines.next()) {
          let event: { type?: string; object?: T };
          try {
            event = JSON.parse(line);
          } catch {
            throw new Error('watch stream carried a line that is not JSON');
          }
          const object = event.object;
          if (event.type === 'ERROR') {
            const status = object as unknown as {
              code?: number;
              reason?: string;
              message?: string;
            };
            if (status.code === 410) {
              gone = true;
              break;
            }
            throw new ApiError(status.code ?? 500, status as never, 'watch (in-stream error)');
          }
          if (object === undefined || typeof object !== 'object') continue;
          events++;
          options.observer?.onEvent?.();
          const nextVersion = object.metadata?.resourceVersion;
          if (nextVersion) resourceVersion = nextVersion;
          if (pendingInitial) {
            // The initial state, ended by an annotated bookmark; then the stream is a watch.
            if (event.type === 'ADDED') yield { type: 'initApply', object: withKind(object) };
            else if (
              event.type === 'BOOKMARK' &&
              object.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true'
            ) {
              pendingInitial = false;
              support.set(supportKey, true);
              first = false;
              yield { type: 'initDone', resourceVersion };
              state = transition(state, { type: 'listed', resourceVersion });
            }
            continue;
          }
          if (event.type === 'BOOKMARK') yield { type: 'bookmark', resourceVersion };
          else if (event.type === 'DELETED') yield { type: 'delete', object: withKind(object) };
          else if (event.type === 'ADDED' || event.type === 'MODIFIED')
            yield { type: 'apply', object: withKind(object) };
        }
      } finally {
        await lines.close();
      }
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
      clearTimeout(stallTimer);
      signal.removeEventListener('abort', abortOnStop);
      controller.abort();
    }
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

function apiVersionOf(client: ResourceClient<KubeObject>): string {
  const { group, version } = client.resource;
  return group ? `${group}/${version}` : version;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
