import type { ServerResponse } from 'node:http';
import { asServed, type Media } from './media.js';
import { apiVersionOf, JSON_TYPE, servedAs } from './response.js';
import type { Selector } from './selectors.js';
import { ApiFailure } from './status.js';
import { type ObjectStore, type ResourceType, type StoredEvent, typeKeyOf } from './store.js';
import type { KubeObject } from './types.js';

/** What a watch request watches, and how it is served. */
export interface WatchScope {
  store: ObjectStore;
  type: ResourceType;
  namespace: string | undefined;
  selector: Selector;
  version: string;
  media: Media;
}

/** The query parameters of a watch that this server reads. */
interface WatchQuery {
  resourceVersion: string;
  bookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutMs: number;
}

/** Node's longest timer: a watch asked to last longer lasts that long (about 24.8 days). */
const MAX_WATCH_MS = 2 ** 31 - 1;

/**
 * A watch's `timeoutSeconds` as kube-apiserver reads it: a whole number (else 400 Bad Request);
 * absent or 0 is drawn in 1800-3600 s (its `--min-request-timeout` default, doubled at most);
 * negative ends the watch at once.
 */
function watchTimeoutMs(text: string | null): number {
  if (text === null || /^[-+]?0+$/.test(text)) return (1800 + Math.random() * 1800) * 1000;
  if (!/^[-+]?\d+$/.test(text)) {
    throw ApiFailure.badRequest(
      `timeoutSeconds ${JSON.stringify(text.slice(0, 40))} is not an integer`,
    );
  }
  return Math.min(Math.max(0, Number(text) * 1000), MAX_WATCH_MS);
}

/** The settings of the server that every watch shares. */
export interface WatchSettings {
  bookmarkIntervalMs: number;
  /** Whether the server is stalled: a new watch starts paused then. */
  stalled: boolean;
}

/** Reads and checks a watch's query, failing as kube-apiserver does. */
function watchQuery(query: URLSearchParams): WatchQuery {
  const bookmarks = query.get('allowWatchBookmarks') === 'true';
  const sendInitialEvents = query.get('sendInitialEvents') === 'true';
  if (sendInitialEvents && query.get('resourceVersionMatch') !== 'NotOlderThan') {
    throw invalidListOptions(
      'resourceVersionMatch',
      'Invalid value: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
    );
  }
  if (sendInitialEvents && !bookmarks) {
    throw invalidListOptions(
      'allowWatchBookmarks',
      'Invalid value: sendInitialEvents requires allowWatchBookmarks',
    );
  }
  return {
    resourceVersion: query.get('resourceVersion') ?? '',
    bookmarks,
    sendInitialEvents,
    timeoutMs: watchTimeoutMs(query.get('timeoutSeconds')),
  };
}

function invalidListOptions(field: string, message: string): ApiFailure {
  return ApiFailure.invalid('ListOptions', 'meta.k8s.io', '', [
    { field, reason: 'FieldValueInvalid', message },
  ]);
}

/**
 * Where a watch starts: the current objects as ADDED events (no resourceVersion, `0`, or
 * `sendInitialEvents`), or the history after a resourceVersion; `expired` when the history no
 * longer holds it. A version newer than the store's is refused (504), as kube-apiserver does.
 */
function startingPoint(
  scope: WatchScope,
  query: WatchQuery,
): { initial: KubeObject[]; replay: StoredEvent[] } | { expired: number } {
  const { store, type, namespace, selector } = scope;
  const rvParam = query.resourceVersion;
  if (rvParam === '' || rvParam === '0' || query.sendInitialEvents) {
    return { initial: store.list(type, namespace, selector), replay: [] };
  }
  const rv = Number(rvParam);
  if (!/^\d+$/.test(rvParam)) throw ApiFailure.badRequest(`invalid resource version "${rvParam}"`);
  if (rv > store.resourceVersion) {
    throw new ApiFailure(
      504,
      'Timeout',
      `Too large resource version: ${rv}, current: ${store.resourceVersion}`,
      {
        causes: [
          {
            field: '',
            reason: 'ResourceVersionTooLarge' as never,
            message: 'Too large resource version',
          },
        ],
        retryAfterSeconds: 1,
      },
    );
  }
  const replay = store.eventsSince(typeKeyOf(type.group, type.plural), rv);
  return replay === undefined ? { expired: rv } : { initial: [], replay };
}

/**
 * Serves a watch request on `res`: the starting point, then every change of the watched objects,
 * translated for the watch's selector (an object that starts to match is ADDED, one that stops
 * matching is DELETED), with bookmarks when asked for, until the timeout, the client leaves, or
 * the server ends it. The session is in `sessions` while it is open.
 */
export function serveWatch(
  res: ServerResponse,
  scope: WatchScope,
  queryParams: URLSearchParams,
  settings: WatchSettings,
  sessions: Set<WatchSession>,
): void {
  const query = watchQuery(queryParams);
  const start = startingPoint(scope, query);
  if ('expired' in start) {
    res.writeHead(200, { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' });
    const status = new ApiFailure(
      410,
      'Expired',
      `too old resource version: ${start.expired} (${scope.store.oldestWatchable})`,
    ).toStatus();
    res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    return;
  }
  res.writeHead(200, {
    'content-type': JSON_TYPE,
    'transfer-encoding': 'chunked',
    'cache-control': 'no-cache',
  });
  res.flushHeaders();
  const session = new WatchSession(res, scope, query.bookmarks, settings.stalled);
  session.begin(start.initial, start.replay, query.sendInitialEvents);
  session.follow(query.timeoutMs, settings.bookmarkIntervalMs, sessions);
}

/** One open watch stream: its events, bookmarks, pause for stalls, and its end. */
export class WatchSession {
  readonly #res: ServerResponse;
  readonly #scope: WatchScope;
  readonly #bookmarks: boolean;
  readonly #served: (object: KubeObject) => KubeObject;
  #paused: boolean;
  readonly #pending: string[] = [];

  constructor(res: ServerResponse, scope: WatchScope, bookmarks: boolean, paused: boolean) {
    this.#res = res;
    this.#scope = scope;
    this.#bookmarks = bookmarks;
    this.#paused = paused;
    this.#served = servedAs(scope.type, scope.version, scope.media);
  }

  /** Sends the starting point: initial objects, the end-of-initial-events bookmark, a replay. */
  begin(initial: readonly KubeObject[], replay: readonly StoredEvent[], initialEnd: boolean): void {
    for (const object of initial) this.#write({ type: 'ADDED', object: this.#served(object) });
    if (initialEnd) {
      this.#write(
        this.#bookmark(String(this.#scope.store.resourceVersion), {
          'k8s.io/initial-events-end': 'true',
        }),
      );
    }
    for (const event of replay) this.#emit(event);
  }

  /** Streams live changes until the timeout, the client leaves or the type stops being served. */
  follow(timeoutMs: number, bookmarkIntervalMs: number, sessions: Set<WatchSession>): void {
    const { store, type } = this.#scope;
    const unsubscribe = store.subscribe({
      typeKey: typeKeyOf(type.group, type.plural),
      deliver: (event) => this.#emit(event),
      close: () => finish(),
    });
    const ticker = this.#bookmarks
      ? setInterval(
          () => this.#write(this.#bookmark(String(store.resourceVersion))),
          bookmarkIntervalMs,
        )
      : undefined;
    const timer = setTimeout(() => finish(), timeoutMs);
    sessions.add(this);
    const release = (): void => {
      clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      unsubscribe();
      sessions.delete(this);
    };
    const finish = (): void => {
      release();
      this.end();
    };
    this.#res.once('close', release);
  }

  /** Holds events back (a stalled server sends nothing) until {@link WatchSession.resume}. */
  pause(): void {
    this.#paused = true;
  }

  /** Sends what was held back, and streams on. */
  resume(): void {
    this.#paused = false;
    for (const chunk of this.#pending.splice(0)) this.#res.write(chunk);
  }

  /** Drops the connection, as a network fault would. */
  destroy(): void {
    this.#res.destroy();
  }

  /** Ends the stream cleanly (a last bookmark first, when the client takes them). */
  end(): void {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    if (this.#bookmarks) this.#write(this.#bookmark(String(this.#scope.store.resourceVersion)));
    res.end();
  }

  #write(event: unknown): void {
    const line = `${JSON.stringify(event)}\n`;
    if (this.#paused) this.#pending.push(line);
    else this.#res.write(line);
  }

  #bookmark(rv: string, annotations?: Record<string, string>) {
    const { type, version, media } = this.#scope;
    return {
      type: 'BOOKMARK',
      object: asServed(
        {
          apiVersion: apiVersionOf(type, version),
          kind: type.kind,
          metadata: { resourceVersion: rv, ...(annotations ? { annotations } : {}) },
        },
        media,
      ),
    };
  }

  /** Sends a stored change as this watch sees it, or nothing when it concerns none of its objects. */
  #emit(event: StoredEvent): void {
    const type = translate(event, (object) => this.#inScope(object));
    if (type) this.#write({ type, object: this.#served(event.object) });
  }

  #inScope(object: KubeObject | undefined): boolean {
    const { type, namespace, selector } = this.#scope;
    return (
      object !== undefined &&
      (namespace === undefined || !type.namespaced || object.metadata.namespace === namespace) &&
      selector(object)
    );
  }
}

/** The event type a watch sends for a stored change, given which objects it watches. */
function translate(
  event: StoredEvent,
  inScope: (object: KubeObject | undefined) => boolean,
): string | undefined {
  const now = inScope(event.object);
  const before = event.type !== 'ADDED' && inScope(event.previous);
  if (event.type === 'ADDED') return now ? 'ADDED' : undefined;
  if (event.type === 'DELETED') return before || now ? 'DELETED' : undefined;
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  if (before) return 'DELETED';
  return undefined;
}
