import type { DynamicRegistry } from '@vmcp/registry';
import type { Access } from '../../auth.js';
import type { BodyCache } from '../body-cache.js';
import { HttpError } from '../http-error.js';
import type { LongLived } from '../long-lived.js';
import { parseName, parseTimeout, parseVersion, type Request } from '../request.js';
import type { Route } from '../router.js';

/** What the backend routes read. */
export interface BackendsSource {
  registry: DynamicRegistry;
  bodies: BodyCache;
  longLived: LongLived;
  /** Longest long-poll a client may ask for, in seconds. */
  maxTimeoutSeconds: number;
}

/** `/v1/backends` (the list, or a long-poll with `?watch=N`) and `/v1/backends/{id}`. */
export function backendRoutes(source: BackendsSource): Route[] {
  return [
    {
      path: '/v1/backends',
      query: ['watch', 'timeoutSeconds'],
      handle: (request) => {
        const access = request.access();
        const watch = request.query.get('watch');
        if (watch !== null) return longPoll(source, request, access, parseVersion(watch, 'watch'));
        if (request.query.has('timeoutSeconds')) {
          throw new HttpError(400, 'timeoutSeconds is only allowed with watch');
        }
        request.snapshot(200, source.bodies.list(source.registry.snapshot(), access));
        return 'list';
      },
    },
    {
      path: '/v1/backends/',
      prefix: true,
      query: [],
      handle: (request, segment) => {
        const id = parseName(segment, 'a backend id');
        const snapshot = source.registry.snapshot();
        const backend = source.bodies.one(snapshot, id, request.access());
        if (backend === undefined) throw new HttpError(404, `backend "${id}" not found`);
        request.snapshot(200, { version: snapshot.version, body: backend });
        return 'backend';
      },
    },
  ];
}

/**
 * Answers once the registry's version differs from `since` (with the whole list), or with 304
 * at the client's timeout; 503 when the server shuts down meanwhile.
 */
function longPoll(
  source: BackendsSource,
  request: Request,
  access: Access,
  since: number,
): Promise<string> {
  const { registry, bodies } = source;
  const timeoutSeconds = parseTimeout(
    request.query.get('timeoutSeconds'),
    source.maxTimeoutSeconds,
  );
  return source.longLived.run('longpoll', async (signal) => {
    const abort = AbortSignal.any([signal, request.closed]);
    const result = await registry
      .waitForChange(since, { timeoutMs: timeoutSeconds * 1000, signal: abort })
      .catch(() => undefined);
    if (result === undefined) {
      if (!request.res.headersSent && !request.res.destroyed) {
        request.json(503, { error: { status: 503, message: 'shutting down' } });
      }
    } else if (!result.changed) request.notModified(since);
    else request.snapshot(200, bodies.list(registry.snapshot(), access));
    return 'watch';
  });
}
