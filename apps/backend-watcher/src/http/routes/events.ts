import type { ServerResponse } from 'node:http';
import type { Logger } from '@vmcp/kube-runtime';
import type { DynamicRegistry } from '@vmcp/registry';
import type { Access } from '../../auth.js';
import type { BodyCache } from '../body-cache.js';
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
  logger: Logger;
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
 * `heartbeatMs`. Each stream reads the shared change feed at its own
 * pace: when its socket buffer is full it waits for the client (never blocking the others), and
 * a client that reads nothing for `slowClientTimeoutMs` is dropped; it resumes with
 * `Last-Event-ID` and loses nothing.
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
  res.write('retry: 1000\n\n');
  // A named event, not a comment: EventSource clients see it too. It has no id, so it never
  // moves a client's Last-Event-ID.
  const heartbeat = (): void => {
    const ready = options.ready();
    res.write(
      `event: heartbeat\ndata: {"version":${registry.version},"ready":${ready},"intervalMs":${options.heartbeatMs}}\n\n`,
    );
  };
  heartbeat();
  // Subscribe before reading the snapshot, so no change falls between the two.
  // A Last-Event-ID newer than the registry comes from an earlier process: start afresh.
  const snapshot = registry.snapshot();
  const resume = options.since !== undefined && options.since <= snapshot.version;
  const changes = registry.changes({
    signal,
    sinceVersion: resume ? (options.since as number) : snapshot.version,
  });
  if (!resume) res.write(bodies.snapshotEvent(snapshot, access));
  const heartbeats = setInterval(heartbeat, options.heartbeatMs);
  heartbeats.unref();
  try {
    for await (const change of changes) {
      if (!(await written(res, bodies.change(change, access), change.version, options))) break;
    }
  } finally {
    clearInterval(heartbeats);
    if (!res.destroyed) res.end();
  }
}

/**
 * Writes one event; waits for a full buffer to drain, and drops a client that reads nothing for
 * `slowClientTimeoutMs` (it resumes with Last-Event-ID). False when the stream is over.
 */
async function written(
  res: ServerResponse,
  event: string | Buffer,
  version: number,
  options: StreamOptions,
): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(event)) return true;
  if (await drained(res, options.slowClientTimeoutMs)) return true;
  if (!res.destroyed) {
    options.logger.warn(
      { buffered: res.writableLength, version },
      'event stream client too slow; dropped (it can resume with Last-Event-ID)',
    );
    res.destroy();
  }
  return false;
}

/** Resolves true once the response's buffer drained, false on close or after `timeoutMs`. */
function drained(res: ServerResponse, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (value: boolean): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(value);
    };
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
