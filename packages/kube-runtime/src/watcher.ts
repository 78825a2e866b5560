import { Backoff, type BackoffOptions } from './backoff.js';
import { ApiError, isGone, isTooLargeResourceVersion, type ResourceClient } from './client.js';
import { type Clock, sleep, systemClock } from './clock.js';
import {
  compileFieldPaths,
  eventFieldTree,
  type FieldPath,
  type FieldTree,
} from './drop-before-parse.js';
import { checkDuration, type DurationRange } from './duration.js';
import type { LineResult } from './line-stream.js';
import { type ListMetadata, ListScanner } from './list-scanner.js';
import { deliver, SinkError, type WatchEvent, type WatchSink } from './sink.js';
import type { KubeObject, Logger } from './types.js';
import { childLogger, describeError } from './types.js';
import { WatchStream } from './watch-stream.js';

export type { WatchEvent, WatchSink } from './sink.js';

/** Where a backoff resumes. */
type Resume = { phase: 'listing' } | { phase: 'watching'; resourceVersion: string };

/**
 * The watcher's states. {@link transition} is the only place a watcher moves between them;
 * {@link runWatcher} performs each state's I/O and turns its outcome into an input.
 */
export type WatcherState =
  /** A (re)list is due: paginated, or as a watch-list where the server has one. */
  | { phase: 'listing' }
  /** A watch-list's stream is open: its events are the new state, up to the bookmark ending them. */
  | { phase: 'watchListing'; stream: WatchStream }
  /** Watching from `resourceVersion`: `stream` is the watch once it is open. */
  | { phase: 'watching'; resourceVersion: string; stream?: WatchStream }
  /** Waiting `delayMs` after a failure, then `resume`. */
  | { phase: 'backingOff'; delayMs: number; resume: Resume }
  /** Done: the signal aborted, or the sink failed (`failure`). */
  | { phase: 'stopped'; failure?: { error: unknown } };

/** What happened in the current state. */
export type WatcherInput =
  | { type: 'listed'; resourceVersion: string }
  /** A list failed, or a watch-list ended before its initial events did: relist after a delay. */
  | { type: 'listFailed'; delayMs: number }
  | { type: 'watchListOpened'; stream: WatchStream }
  /** The server refused `sendInitialEvents` (4xx) in `auto` mode: list then watch instead. */
  | { type: 'watchListRefused' }
  /** The bookmark annotated `k8s.io/initial-events-end` arrived (and the sink has `initDone`). */
  | { type: 'initialEventsDone'; resourceVersion: string }
  | { type: 'watchOpened'; stream: WatchStream }
  /** 410 Gone (HTTP or in-stream), an expired continue token, or a too large resourceVersion. */
  | { type: 'gone' }
  /** The server closed a healthy watch (timeout): resume from the last resourceVersion. */
  | { type: 'watchClosed'; resourceVersion: string }
  /** The watch failed, or closed at once without any event: resume after a delay. */
  | { type: 'watchFailed'; resourceVersion: string; delayMs: number }
  /** No bytes for the stall period: the watch was aborted; resume at once. */
  | { type: 'stalled'; resourceVersion: string }
  | { type: 'waited' }
  /** The sink threw, or its promise rejected: stop, and `runWatcher` rejects with `error`. */
  | { type: 'sinkFailed'; error: unknown }
  /** The signal aborted. */
  | { type: 'stop' };

const LISTING: { phase: 'listing' } = Object.freeze({ phase: 'listing' });
const STOP: WatcherInput = Object.freeze({ type: 'stop' });
const GONE: WatcherInput = Object.freeze({ type: 'gone' });

const backingOff = (delayMs: number, resume: Resume): WatcherState => ({
  phase: 'backingOff',
  delayMs,
  resume,
});

/**
 * The list → watch → relist state machine, as a pure function: the next state for an input.
 * An input a state does not expect leaves it as it is.
 */
export function transition(state: WatcherState, input: WatcherInput): WatcherState {
  if (state.phase === 'stopped') return state;
  if (input.type === 'stop') return { phase: 'stopped' };
  if (input.type === 'sinkFailed') return { phase: 'stopped', failure: { error: input.error } };
  switch (state.phase) {
    case 'listing':
      return fromListing(state, input);
    case 'watchListing':
      return fromWatchListing(state, input);
    case 'watching':
      return fromWatching(state, input);
    case 'backingOff':
      return input.type === 'waited' ? state.resume : state;
  }
}

function fromListing(state: WatcherState, input: WatcherInput): WatcherState {
  if (input.type === 'listed') return { phase: 'watching', resourceVersion: input.resourceVersion };
  if (input.type === 'watchListOpened') return { phase: 'watchListing', stream: input.stream };
  return relistAfter(state, input);
}

function fromWatchListing(
  state: Extract<WatcherState, { phase: 'watchListing' }>,
  input: WatcherInput,
): WatcherState {
  if (input.type === 'initialEventsDone') {
    // The same stream goes on as the watch.
    return { phase: 'watching', resourceVersion: input.resourceVersion, stream: state.stream };
  }
  return relistAfter(state, input);
}

/**
 * A (re)list, paginated or as a watch-list, that did not complete: it starts again, after the
 * backoff for a failure and at once for a 410, a stall or a refused watch-list.
 */
function relistAfter(state: WatcherState, input: WatcherInput): WatcherState {
  switch (input.type) {
    case 'listFailed':
    case 'watchFailed':
      return backingOff(input.delayMs, LISTING);
    case 'gone':
    case 'stalled':
    case 'watchListRefused':
      return LISTING;
    default:
      return state;
  }
}

function fromWatching(
  state: Extract<WatcherState, { phase: 'watching' }>,
  input: WatcherInput,
): WatcherState {
  switch (input.type) {
    case 'watchOpened':
      return { phase: 'watching', resourceVersion: state.resourceVersion, stream: input.stream };
    case 'watchClosed':
    case 'stalled':
      return { phase: 'watching', resourceVersion: input.resourceVersion };
    case 'watchFailed':
      return backingOff(input.delayMs, {
        phase: 'watching',
        resourceVersion: input.resourceVersion,
      });
    case 'gone':
      return LISTING;
    default:
      return state;
  }
}

/** Why a watch restarted, for {@link WatchObserver.onWatchRestart}. */
export type WatchRestartReason = 'closed' | 'failed' | 'stalled' | 'gone';

/** The inputs that end a watch (not a watch-list), and the restart each one counts as. */
const RESTART_REASONS: Partial<Record<WatcherInput['type'], WatchRestartReason>> = {
  watchClosed: 'closed',
  watchFailed: 'failed',
  stalled: 'stalled',
  gone: 'gone',
};

/** Observations for metrics. */
export interface WatchObserver {
  /** A (re)list started: paginated or as a watch-list. */
  onRelist?(): void;
  /** A watch ended and is resumed (or, for `gone`, replaced by a relist). */
  onWatchRestart?(reason: WatchRestartReason): void;
  /** An event arrived on a watch stream (bookmarks included). */
  onEvent?(): void;
}

/** Options of {@link watch} and {@link runWatcher}. */
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
  /** Abort and resume a watch that delivers no bytes for this long: 1 ms to 24 h. Default 5 minutes. */
  stallTimeoutMs?: number;
  /**
   * Server-side watch timeout, drawn at random in this range per watch: whole or fractional
   * seconds from 1 to 86400 (24 h), the first not above the second. Default 300-600 s.
   */
  watchTimeoutSeconds?: [number, number];
  /**
   * The retry policy of failed lists and watches (client-go's reflector defaults). Its `maxMs`
   * also caps how long a server's `Retry-After` is waited.
   */
  backoff?: BackoffOptions;
  /**
   * Watch-list streaming (`sendInitialEvents`): the initial state arrives on the watch itself
   * instead of a separate list. `auto` (default) tries it once per client and resource and falls
   * back to list then watch when the server refuses it (kube-apiserver before the WatchList
   * feature answers 4xx); `always` never falls back; `never` always lists.
   */
  watchList?: 'auto' | 'always' | 'never';
  /**
   * Fields cut from each object's bytes before it is parsed, on the list and the watch paths
   * (`APPLY_METADATA_FIELDS`, say): the events carry each object as if it had been parsed whole
   * and these fields deleted, but their bytes are never decoded or parsed. Paths that would drop
   * the object's identity are refused (`TypeError`).
   */
  dropBeforeParse?: readonly FieldPath[];
  logger?: Logger;
  observer?: WatchObserver;
  /** Time for the backoff, the stall watchdog and the short-watch check. Default: real time. */
  clock?: Clock;
  /** Randomness for the watch timeouts and the backoff's jitter. Default `Math.random`. */
  random?: () => number;
}

/**
 * What each client has learnt about watch-list support, per resource: shared by every watcher on
 * that client, so that detection costs one request per resource, not one per informer.
 */
const watchListSupport = new WeakMap<object, Map<string, boolean>>();

/** The annotation of the bookmark that ends a watch-list's initial events. */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/** A watch that closes sooner than this without an event counts as a failure (it backs off). */
const SHORT_WATCH_MS = 1000;

/** `stallTimeoutMs`: a day without a byte is a dead connection whatever the server. */
const STALL_TIMEOUT_RANGE: DurationRange = { min: 1, max: 86_400_000 };
/** The longest server-side watch timeout asked for, in seconds: a day. */
const MAX_WATCH_TIMEOUT_SECONDS = 86_400;

/**
 * The watcher's checked settings: the stall timeout, the watch timeout range, and the backoff
 * (made here to check it). Throws a `RangeError` naming an option out of range.
 */
export function watcherSettings(
  options: WatcherOptions,
  { clock = systemClock, random = Math.random }: { clock?: Clock; random?: () => number } = {},
): { stallMs: number; watchTimeoutSeconds: [number, number]; backoff: Backoff } {
  const stallMs = checkDuration(
    'stallTimeoutMs',
    options.stallTimeoutMs,
    STALL_TIMEOUT_RANGE,
    300_000,
  );
  const timeouts = options.watchTimeoutSeconds ?? [300, 600];
  const [low, high] = Array.isArray(timeouts) ? timeouts : [];
  if (
    !(
      typeof low === 'number' &&
      typeof high === 'number' &&
      low >= 1 &&
      low <= high &&
      high <= MAX_WATCH_TIMEOUT_SECONDS
    )
  ) {
    throw new RangeError(
      `watchTimeoutSeconds ${JSON.stringify(timeouts)} is not two numbers of seconds from 1 to ${MAX_WATCH_TIMEOUT_SECONDS} (24h), the first not above the second`,
    );
  }
  return {
    stallMs,
    watchTimeoutSeconds: [low, high],
    backoff: new Backoff(options.backoff, { clock, random }),
  };
}

/**
 * Checks a watcher's options as {@link runWatcher} would, without running it: for a program
 * that wants an option out of range to fail where it is given. Throws a `RangeError` naming it.
 */
export function checkWatcherOptions(options: WatcherOptions): void {
  watcherSettings(options);
}

/** The query that makes a watch a watch-list. */
const WATCH_LIST_QUERY = { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' };

/** HTTP answers by which a server refuses a watch-list it does not know. */
const WATCH_LIST_REFUSALS = new Set([400, 415, 422]);

/** A watch event as its line carries it: the parsed line itself, never a copy. */
export interface WatchLineEvent<T extends KubeObject = KubeObject> {
  readonly type: string;
  readonly object: T;
}

/** The in-stream 410 (`ERROR` with code 410): relist. */
export const GONE_LINE: unique symbol = Symbol('gone');
/** A line without an event to use (no object, no type, not an object): skipped. */
export const SKIP_LINE: unique symbol = Symbol('skip');

/**
 * One line of a watch stream, read: an event, the in-stream 410, a line to skip, or an `Error`
 * (a failure carrying the server's Status, or a line that is not JSON).
 */
export type WatchLine<T extends KubeObject = KubeObject> =
  | WatchLineEvent<T>
  | typeof GONE_LINE
  | typeof SKIP_LINE
  | Error;

/**
 * Reads one line of a watch stream. An `ERROR` line is the in-stream 410 ({@link GONE_LINE}) or
 * an {@link ApiError} carrying the server's Status; a line that is not JSON is an `Error` (its
 * text is never echoed: it may hold object data); a line without an object is skipped. An event
 * is the parsed line itself: the hot path allocates nothing of its own per event.
 */
export function parseWatchLine<T extends KubeObject>(line: string): WatchLine<T> {
  let event: { type?: unknown; object?: unknown };
  try {
    event = JSON.parse(line);
  } catch {
    return new Error('watch stream carried a line that is not JSON');
  }
  if (event === null || typeof event !== 'object') return SKIP_LINE;
  const { type, object } = event;
  if (type === 'ERROR') {
    const status = (object ?? {}) as { code?: number; reason?: string; message?: string };
    if (status.code === 410) return GONE_LINE;
    return new ApiError(status.code ?? 500, status, 'watch (in-stream error)');
  }
  if (object === null || typeof object !== 'object' || typeof type !== 'string') return SKIP_LINE;
  return event as WatchLineEvent<T>;
}

/**
 * Whether an event is the bookmark annotated {@link INITIAL_EVENTS_END}: a watch-list's initial
 * events are done. Only asked while a watch-list reads its initial events.
 */
export function endsInitialEvents(event: WatchLineEvent): boolean {
  return (
    event.type === 'BOOKMARK' && event.object.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true'
  );
}

/** What a failed list or watch means for the watcher, before any delay is drawn. */
export type FailureKind =
  | 'sinkFailed'
  | 'stopped'
  | 'watchListRefused'
  | 'stalled'
  | 'gone'
  | 'retry';

/** What {@link classifyFailure} needs to know besides the error. */
export interface FailureContext {
  /** The request was a paginated list, where only 410 (an expired continue token) relists. */
  list: boolean;
  /** The watcher's signal aborted. */
  aborted: boolean;
  /** The stall watchdog aborted the request. */
  stalled: boolean;
  /** A watch-list in `auto` mode that has seen no event yet: a refusal means "not supported". */
  mayFallBack: boolean;
}

/**
 * Classifies a failed list or watch, as a pure function: the sink's own failure stops the
 * watcher, then the signal's abort does; on a list only 410 relists; on a watch, a refused
 * watch-list falls back, a stall resumes, 410 and a too large resourceVersion relist, and
 * anything else is retried after a delay.
 */
export function classifyFailure(error: unknown, context: FailureContext): FailureKind {
  if (error instanceof SinkError) return 'sinkFailed';
  if (context.aborted) return 'stopped';
  if (context.list) return isGone(error) ? 'gone' : 'retry';
  if (context.mayFallBack && error instanceof ApiError && WATCH_LIST_REFUSALS.has(error.code))
    return 'watchListRefused';
  if (context.stalled) return 'stalled';
  if (isGone(error) || isTooLargeResourceVersion(error)) return 'gone';
  return 'retry';
}

const sinkFailed = (error: unknown): WatcherInput => ({
  type: 'sinkFailed',
  error: error instanceof SinkError ? error.original : error,
});

/** One run of a watcher: its client, sink and settings, and the little it learns as it goes. */
class WatchRun<T extends KubeObject> {
  readonly client: ResourceClient<T>;
  readonly signal: AbortSignal;
  readonly sink: WatchSink<T>;
  readonly logger: Logger;
  readonly observer: WatchObserver;
  readonly clock: Clock;
  readonly backoff: Backoff;
  readonly stallMs: number;
  readonly pageSize: number;
  readonly mode: 'auto' | 'always' | 'never';
  readonly selectors: { labelSelector?: string; fieldSelector?: string };
  /** Whether the next list may come from the watch cache: only the first, until one completes. */
  listFromCache: boolean;
  /** The fields cut before parsing: from list items, and from watch events (under `object`). */
  readonly drop: { item: FieldTree; event: FieldTree } | undefined;
  readonly #random: () => number;
  readonly #timeouts: [number, number];
  readonly #support: Map<string, boolean>;
  readonly #supportKey: string;
  readonly #apiVersion: string;

  constructor(
    client: ResourceClient<T>,
    options: WatcherOptions,
    signal: AbortSignal,
    sink: WatchSink<T>,
  ) {
    const { resource } = client;
    this.client = client;
    this.signal = signal;
    this.sink = sink;
    this.logger = childLogger(options.logger, {
      resource: resource.plural,
      namespace: client.namespace,
    });
    this.observer = options.observer ?? {};
    this.clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    const settings = watcherSettings(options, { clock: this.clock, random: this.#random });
    this.backoff = settings.backoff;
    this.stallMs = settings.stallMs;
    this.#timeouts = settings.watchTimeoutSeconds;
    this.pageSize = options.pageSize ?? 500;
    this.mode = options.watchList ?? 'auto';
    this.selectors = {
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
    };
    this.listFromCache = options.initialListFromCache !== false;
    const item = options.dropBeforeParse && compileFieldPaths(options.dropBeforeParse);
    this.drop = item ? { item, event: eventFieldTree(item) } : undefined;
    let support = watchListSupport.get(client.client);
    if (support === undefined) {
      support = new Map();
      watchListSupport.set(client.client, support);
    }
    this.#support = support;
    this.#supportKey = `${resource.group}/${resource.plural}`;
    this.#apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
  }

  /** Whether the next (re)list is tried as a watch-list. */
  get tryWatchList(): boolean {
    return (
      this.mode === 'always' ||
      (this.mode === 'auto' && this.#support.get(this.#supportKey) !== false)
    );
  }

  learnWatchList(supported: boolean): void {
    this.#support.set(this.#supportKey, supported);
  }

  /** A new server-side timeout, drawn in the configured range. */
  watchTimeoutSeconds(): number {
    const [min, max] = this.#timeouts;
    return Math.round(min + this.#random() * (max - min));
  }

  /**
   * List items come without kind and apiVersion. The object was parsed for us alone, so they are
   * set in place rather than on a copy (a copy per object is garbage the size of the list).
   */
  withKind(object: T): T {
    if (!object.kind) {
      object.kind = this.client.resource.kind;
      object.apiVersion = this.#apiVersion;
    }
    return object;
  }

  /** Counts an event read on `stream` and moves its resourceVersion on. */
  saw(stream: WatchStream, object: KubeObject): void {
    stream.events++;
    this.observer.onEvent?.();
    const resourceVersion = object.metadata?.resourceVersion;
    if (resourceVersion) stream.resourceVersion = resourceVersion;
  }

  /** Logs a failure that will be retried, and draws how long to wait (`Retry-After` honoured). */
  retryDelay(error: unknown, what: string): number {
    const apiError = error instanceof ApiError ? error : undefined;
    const delayMs = this.backoff.next(apiError?.retryAfterSeconds);
    const code = apiError?.code;
    const fields = { err: describeError(error), code, delayMs: Math.round(delayMs) };
    if (code === 401 || code === 403)
      this.logger.error(fields, `${what} not allowed: check credentials and RBAC; retrying`);
    else this.logger.warn(fields, `${what} failed; retrying`);
    return delayMs;
  }

  /** Reports a watch that ended, from the state it ended in. */
  observe(state: WatcherState, input: WatcherInput): void {
    if (state.phase !== 'watching') return;
    const reason = RESTART_REASONS[input.type];
    if (reason !== undefined) this.observer.onWatchRestart?.(reason);
  }
}

const streamOf = (state: WatcherState): WatchStream | undefined =>
  state.phase === 'watchListing' || state.phase === 'watching' ? state.stream : undefined;

/**
 * Lists then watches a resource, forever: relists on 410 Gone (HTTP or in-stream) and on a too
 * large resourceVersion, resumes a closed watch from the last resourceVersion without a relist,
 * retries every other failure with jittered exponential backoff (honouring `Retry-After` up to
 * the backoff's `maxMs`), and aborts and resumes a watch that stays silent past the stall
 * timeout. Resolves only when the signal aborts (or rejects with what the sink threw, or at once
 * with a `RangeError` for an option out of range). resourceVersions are opaque: only passed
 * back to the server, never compared. Events go to `sink` as each line of the stream is parsed,
 * with no promise per event unless the sink asks for one (an informer's cache update is
 * synchronous); {@link watch} offers the same events as an async iterator.
 * The watcher owns the objects it parses: it sets `kind` and `apiVersion` on list items in place.
 *
 * The loop is the whole driver: perform the state's I/O, get an input, and let
 * {@link transition} say what comes next. An open stream belongs to the state that carries it
 * and is closed when a transition drops it.
 */
export async function runWatcher<T extends KubeObject>(
  client: ResourceClient<T>,
  options: WatcherOptions,
  signal: AbortSignal,
  sink: WatchSink<T>,
): Promise<void> {
  const run = new WatchRun(client, options, signal, sink);
  let state: WatcherState = LISTING;
  try {
    while (state.phase !== 'stopped') {
      const input = signal.aborted ? STOP : await perform(run, state);
      run.observe(state, input);
      const next = transition(state, input);
      if (streamOf(next) !== streamOf(state)) streamOf(state)?.close();
      state = next;
    }
  } finally {
    streamOf(state)?.close();
  }
  if (state.failure !== undefined) throw state.failure.error;
}

/** The I/O of one state, and what came of it. */
function perform<T extends KubeObject>(
  run: WatchRun<T>,
  state: WatcherState,
): Promise<WatcherInput> {
  switch (state.phase) {
    case 'listing':
      return run.tryWatchList ? openWatchList(run) : listPages(run);
    case 'watchListing':
      return readInitialEvents(run, state.stream);
    case 'watching':
      return state.stream === undefined
        ? openWatch(run, state.resourceVersion, false)
        : readWatch(run, state.stream);
    case 'backingOff':
      return backOff(run, state.delayMs);
    case 'stopped':
      return Promise.resolve(STOP);
  }
}

/** A paginated (re)list, framed by `init` … `initDone`. */
async function listPages<T extends KubeObject>(run: WatchRun<T>): Promise<WatcherInput> {
  run.observer.onRelist?.();
  try {
    await deliver(run.sink, { type: 'init' });
    let metadata: ListMetadata = {};
    do metadata = await listPage(run, metadata.continue || undefined);
    while (metadata.continue);
    const resourceVersion = metadata.resourceVersion ?? '';
    run.listFromCache = false;
    await deliver(run.sink, { type: 'initDone', resourceVersion });
    return { type: 'listed', resourceVersion };
  } catch (error) {
    return onListFailure(run, error);
  }
}

/**
 * Reads one page as a stream and hands each item on as soon as it is complete: the answer is
 * never held whole (a watch-cache list comes unpaginated).
 */
async function listPage<T extends KubeObject>(
  run: WatchRun<T>,
  continueToken: string | undefined,
): Promise<ListMetadata> {
  const page = await run.client.listStream(
    {
      ...run.selectors,
      limit: run.pageSize,
      ...(continueToken
        ? { continue: continueToken }
        : { resourceVersion: run.listFromCache ? '0' : '' }),
    },
    run.signal,
  );
  const scanner = new ListScanner(run.drop?.item);
  for await (const chunk of page.body) {
    for (const item of scanner.push(chunk as Buffer)) {
      if (item === null || typeof item !== 'object') continue;
      const waiting = deliver(run.sink, { type: 'initApply', object: run.withKind(item as T) });
      if (waiting) await waiting;
    }
  }
  return scanner.finish();
}

/** The input for a failed list: a relist for an expired continue token, else a retry. */
function onListFailure<T extends KubeObject>(run: WatchRun<T>, error: unknown): WatcherInput {
  const kind = classifyFailure(error, {
    list: true,
    aborted: run.signal.aborted,
    stalled: false,
    mayFallBack: false,
  });
  if (kind === 'sinkFailed') return sinkFailed(error);
  if (kind === 'stopped') return STOP;
  if (kind === 'gone') {
    // An expired continue token: start the list again, consistently.
    run.logger.info('list continue token expired; listing again');
    run.listFromCache = false;
    return GONE;
  }
  return { type: 'listFailed', delayMs: run.retryDelay(error, 'list') };
}

/** A (re)list as a watch-list: `init`, then a watch whose first events are the new state. */
async function openWatchList<T extends KubeObject>(run: WatchRun<T>): Promise<WatcherInput> {
  run.observer.onRelist?.();
  try {
    await deliver(run.sink, { type: 'init' });
  } catch (error) {
    return sinkFailed(error);
  }
  if (run.signal.aborted) return STOP;
  return openWatch(run, '', true);
}

/** Sends a watch request (a watch-list's when `initial`), with its stall watchdog running. */
async function openWatch<T extends KubeObject>(
  run: WatchRun<T>,
  resourceVersion: string,
  initial: boolean,
): Promise<WatcherInput> {
  const stream = new WatchStream(run.clock, run.stallMs, run.signal, resourceVersion);
  try {
    const response = await run.client.watch(
      {
        ...run.selectors,
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: run.watchTimeoutSeconds(),
        ...(initial ? WATCH_LIST_QUERY : {}),
      },
      stream.signal,
    );
    stream.attach(response.body, run.drop?.event);
    return initial ? { type: 'watchListOpened', stream } : { type: 'watchOpened', stream };
  } catch (error) {
    return onWatchFailure(run, error, stream, initial);
  }
}

/** Reads a watch-list's initial events up to the bookmark that ends them, then hands on `initDone`. */
async function readInitialEvents<T extends KubeObject>(
  run: WatchRun<T>,
  stream: WatchStream,
): Promise<WatcherInput> {
  const onEvent = (read: WatchLineEvent<T>): LineResult => {
    if (read.type === 'ADDED') {
      return deliver(run.sink, { type: 'initApply', object: run.withKind(read.object) });
    }
    return endsInitialEvents(read) ? 'pause' : undefined;
  };
  try {
    const end = await stream.read(eventsOf(run, stream, onEvent));
    if (stream.gone) return goneInStream(run, stream);
    if (end === 'ended') {
      return {
        type: 'listFailed',
        delayMs: run.retryDelay(
          new Error('watch-list ended before its initial events did'),
          'watch-list',
        ),
      };
    }
    run.learnWatchList(true);
    run.listFromCache = false;
    const { resourceVersion } = stream;
    await stream.hold(deliver(run.sink, { type: 'initDone', resourceVersion }));
    return { type: 'initialEventsDone', resourceVersion };
  } catch (error) {
    return onWatchFailure(run, error, stream, true);
  }
}

/** Reads a watch until it ends: each event goes to the sink as its line is parsed. */
async function readWatch<T extends KubeObject>(
  run: WatchRun<T>,
  stream: WatchStream,
): Promise<WatcherInput> {
  // Each event is handled as its line arrives; the sink is awaited only when it asks to be.
  const onEvent = (read: WatchLineEvent<T>): LineResult => {
    switch (read.type) {
      case 'BOOKMARK':
        return deliver(run.sink, { type: 'bookmark', resourceVersion: stream.resourceVersion });
      case 'DELETED':
        return deliver(run.sink, { type: 'delete', object: run.withKind(read.object) });
      case 'ADDED':
      case 'MODIFIED':
        return deliver(run.sink, { type: 'apply', object: run.withKind(read.object) });
      default:
        return undefined;
    }
  };
  try {
    await stream.read(eventsOf(run, stream, onEvent));
  } catch (error) {
    return onWatchFailure(run, error, stream, false);
  }
  if (stream.gone) return goneInStream(run, stream);
  const { resourceVersion } = stream;
  if (stream.events === 0 && run.clock.now() - stream.startedAt < SHORT_WATCH_MS) {
    const delayMs = run.retryDelay(new Error('watch closed at once without events'), 'watch');
    return { type: 'watchFailed', resourceVersion, delayMs };
  }
  if (stream.events > 0) run.backoff.reset();
  return { type: 'watchClosed', resourceVersion };
}

/**
 * The line handler of a stream: each line is read, and each event counted and passed to
 * `onEvent`; the in-stream 410 pauses reading, and a failure throws.
 */
function eventsOf<T extends KubeObject>(
  run: WatchRun<T>,
  stream: WatchStream,
  onEvent: (read: WatchLineEvent<T>) => LineResult,
): (line: string) => LineResult {
  return (line) => {
    const read = parseWatchLine<T>(line);
    if (read === SKIP_LINE) return undefined;
    if (read === GONE_LINE) {
      stream.gone = true;
      return 'pause';
    }
    if (read instanceof Error) throw read;
    run.saw(stream, read.object);
    return onEvent(read);
  };
}

function goneInStream<T extends KubeObject>(run: WatchRun<T>, stream: WatchStream): WatcherInput {
  run.logger.info(
    { resourceVersion: stream.resourceVersion },
    'watch expired (410 Gone in stream); relisting',
  );
  return GONE;
}

/**
 * The input for a failed watch (or watch-list, `initial`). A sink still holding an event when
 * its stream failed takes it before it gets another.
 */
async function onWatchFailure<T extends KubeObject>(
  run: WatchRun<T>,
  error: unknown,
  stream: WatchStream,
  initial: boolean,
): Promise<WatcherInput> {
  stream.close();
  const kind = classifyFailure(error, {
    list: false,
    aborted: run.signal.aborted,
    stalled: stream.stalled,
    mayFallBack: initial && run.mode === 'auto' && stream.events === 0,
  });
  if (kind === 'sinkFailed') return sinkFailed(error);
  if (kind === 'stopped') return STOP;
  const input = watchFailureInput(run, kind, error, stream);
  try {
    await stream.released(run.signal);
  } catch (sinkError) {
    return sinkFailed(sinkError);
  }
  return run.signal.aborted ? STOP : input;
}

/** Logs a watch failure as what it is, and draws the delay of a retry. */
function watchFailureInput<T extends KubeObject>(
  run: WatchRun<T>,
  kind: Exclude<FailureKind, 'sinkFailed' | 'stopped'>,
  error: unknown,
  stream: WatchStream,
): WatcherInput {
  const { resourceVersion } = stream;
  switch (kind) {
    case 'watchListRefused':
      // The server does not know watch-list (or has it turned off): list then watch from now on.
      run.learnWatchList(false);
      run.logger.info(
        { code: (error as ApiError).code, err: describeError(error) },
        'watch-list not supported by the server; listing then watching',
      );
      return { type: 'watchListRefused' };
    case 'stalled':
      run.logger.warn(
        { stallMs: run.stallMs, resourceVersion },
        'watch stalled: no bytes in time; resuming',
      );
      return { type: 'stalled', resourceVersion };
    case 'gone':
      run.logger.info({ resourceVersion }, 'watch expired (410 Gone); relisting');
      return GONE;
    case 'retry':
      return { type: 'watchFailed', resourceVersion, delayMs: run.retryDelay(error, 'watch') };
  }
}

async function backOff<T extends KubeObject>(
  run: WatchRun<T>,
  delayMs: number,
): Promise<WatcherInput> {
  await sleep(run.clock, delayMs, run.signal);
  return run.signal.aborted ? STOP : { type: 'waited' };
}

/**
 * {@link runWatcher} as an async iterator (kube-rs style): the same events, pulled. The watcher
 * reads ahead by at most one event (it waits, with its stream paused, until the consumer takes
 * it), so a slow consumer holds the stream back instead of buffering it. Ends when the signal
 * aborts or the consumer stops iterating.
 *
 * @example
 * for await (const event of watch(servers, { labelSelector: 'team=tools' }, signal)) {
 *   if (event.type === 'apply') console.log(event.object.metadata.name);
 * }
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
