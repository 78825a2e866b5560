import type { Clock, Logger } from '@vmcp/kube-runtime';
import type { DynamicRegistry } from '@vmcp/registry';
import type { Access } from '../../auth.js';
import type { BodyCache } from '../body-cache.js';
import { EventWriter } from '../event-writer.js';
import type { LastResort } from '../last-resort.js';
import type { LongLived } from '../long-lived.js';
import { ACCESS_HEADER, parseVersion, type Request } from '../request.js';
import type { Route } from '../router.js';

/** What the event stream reads. */
export interface EventsSource {
  registry: DynamicRegistry;
  bodies: BodyCache;
  longLived: LongLived;
  heartbeatMs: number;
  slowClientTimeoutMs: number;
  clock: Clock;
  logger: Logger;
  lastResort: LastResort;
  /** Counts a client dropped for not reading. */
  slowClientDropped(): void;
  ready(): boolean;
}

/** `/v1/events`: the registry as Server-Sent Events, resumable with `Last-Event-ID`. */
export function eventsRoute(source: EventsSource): Route {
  return {
    path: '/v1/events',
    query: [],
    handle: (request) => {
      const lastEventId = request.req.headers['last-event-id'];
      const since =
        lastEventId === undefined || lastEventId === ''
          ? undefined
          : parseVersion(String(lastEventId), 'Last-Event-ID');
      const access = request.access();
      return source.longLived.run('events', (signal) =>
        streamEvents(request, {
          ...source,
          access,
          since,
          signal: AbortSignal.any([signal, request.closed]),
        }).then(() => 'events'),
      );
    },
  };
}

/** What one stream needs: the shared source, the client's view and where it resumes. */
interface StreamOptions extends Omit<EventsSource, 'longLived'> {
  access: Access;
  since: number | undefined;
  signal: AbortSignal;
}

/**
 * Server-Sent Events: a `heartbeat` event, then a `snapshot` event with the whole content (unless
 * the client resumes with `Last-Event-ID` from a version still in the history), then one `change`
 * event per registry change, each with the version as its id, and a `heartbeat` every
 * `heartbeatMs`. Each stream reads the shared change feed at its own pace and writes shared
 * buffers through an {@link EventWriter}: when its socket buffer is full it waits for the client
 * (never blocking the others) and skips heartbeats, and a client that has not taken what was
 * written within `slowClientTimeoutMs` is dropped, whether or not changes arrive; it resumes
 * with `Last-Event-ID` and loses nothing.
 */
async function streamEvents(request: Request, options: StreamOptions): Promise<void> {
  const { res } = request;
  const { registry, bodies, access, signal } = options;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    [ACCESS_HEADER]: access,
  });
  res.flushHeaders();
  if (request.method === 'HEAD') {
    res.end();
    return;
  }
  const writer = new EventWriter(res, {
    clock: options.clock,
    slowClientTimeoutMs: options.slowClientTimeoutMs,
    lastResort: options.lastResort,
    onSlowClient: (unread) => {
      options.slowClientDropped();
      options.logger.warn(
        { unread, version: registry.version },
        'event stream client too slow; dropped (it can resume with Last-Event-ID)',
      );
    },
  });
  // A named event, not a comment: EventSource clients see it too. It has no id, so it never
  // moves a client's Last-Event-ID.
  const heartbeat = (): string =>
    `event: heartbeat\ndata: {"version":${registry.version},"ready":${options.ready()},"intervalMs":${options.heartbeatMs}}\n\n`;
  try {
    writer.write(['retry: 1000\n\n', heartbeat()]);
    // Subscribe before reading the snapshot, so no change falls between the two.
    // A Last-Event-ID newer than the registry comes from an earlier process: start afresh.
    const snapshot = registry.snapshot();
    const resume = options.since !== undefined && options.since <= snapshot.version;
    const changes = registry.changes({
      signal,
      sinceVersion: resume ? (options.since as number) : snapshot.version,
    });
    if (!resume) writer.write(bodies.snapshotEvent(snapshot, access));
    writer.heartbeats(options.heartbeatMs, heartbeat);
    for await (const change of changes) {
      if (!(await writer.ready())) break;
      writer.write(bodies.change(change, access));
    }
  } finally {
    writer.close();
    if (!res.destroyed) res.end();
  }
}
