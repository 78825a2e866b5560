import type { Registry } from 'prom-client';
import type { Route } from '../router.js';

/** What the health routes read. */
export interface HealthSource {
  /** True while the process and its watch loops are alive. */
  alive(): boolean;
  /** True once the registry reflects the cluster. */
  ready(): boolean;
  /** Names of the initial lists not decided yet; listed by `/readyz` when there are any. */
  pending?: () => readonly string[];
  /** True once shutdown began. */
  draining(): boolean;
  /** More to say in `/readyz`'s body (the vMCP config's state), whatever the status. */
  readyDetail?: (() => Record<string, unknown>) | undefined;
  metricsRegistry: Registry;
}

/** `/healthz`, `/readyz` and `/metrics`: answered while shutting down too. */
export function healthRoutes(source: HealthSource): Route[] {
  return [
    {
      path: '/healthz',
      query: [],
      whileDraining: true,
      handle: (request) => {
        const ok = source.alive();
        request.json(ok ? 200 : 503, { status: ok ? 'ok' : 'watch loops stopped' });
        return 'healthz';
      },
    },
    {
      path: '/readyz',
      query: [],
      whileDraining: true,
      handle: (request) => {
        const draining = source.draining();
        const ok = source.ready() && !draining;
        request.json(ok ? 200 : 503, {
          status: ok ? 'ready' : draining ? 'shutting down' : 'registry not synced',
          ...pendingOf(source),
          ...source.readyDetail?.(),
        });
        return 'readyz';
      },
    },
    {
      path: '/metrics',
      query: [],
      whileDraining: true,
      handle: async (request) => {
        const text = await source.metricsRegistry.metrics();
        request.send(200, text, { 'content-type': source.metricsRegistry.contentType });
        return 'metrics';
      },
    },
  ];
}

/** At most this many pending names in a `/readyz` answer (`pendingCount` has them all). */
const MAX_PENDING_LISTED = 100;

/** `pending` (the first names, sorted) and `pendingCount`, when some initial name is undecided. */
function pendingOf(source: HealthSource): { pending?: string[]; pendingCount?: number } {
  const pending = source.pending?.() ?? [];
  if (pending.length === 0) return {};
  return { pending: pending.slice(0, MAX_PENDING_LISTED), pendingCount: pending.length };
}
