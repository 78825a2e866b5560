import type { Registry } from 'prom-client';
import type { Route } from '../router.js';

/** What the health routes read. */
export interface HealthSource {
  /** True while the process and its watch loops are alive. */
  alive(): boolean;
  /** True once the registry reflects the cluster. */
  ready(): boolean;
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
