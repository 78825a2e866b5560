import type { DynamicRegistry } from '@vmcp/registry';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The HTTP API's Prometheus metrics, and the registry's size and version, in one registry. */
export class HttpMetrics {
  readonly #requests: Counter;
  /** Open long-polls and event streams, by kind. */
  readonly streams: Gauge;

  constructor(metricsRegistry: Registry, registry: DynamicRegistry) {
    const registers = [metricsRegistry];
    this.#requests = new Counter({
      name: 'vmcp_http_requests_total',
      help: 'HTTP requests served, by route and status code',
      labelNames: ['route', 'code'],
      registers,
    });
    this.streams = new Gauge({
      name: 'vmcp_http_open_streams',
      help: 'Open long-polls and event streams',
      labelNames: ['kind'],
      registers,
    });
    new Gauge({
      name: 'vmcp_registry_backends',
      help: 'Backends in the registry',
      registers,
      collect() {
        this.set(registry.count());
      },
    });
    new Gauge({
      name: 'vmcp_registry_version',
      help: 'The registry version (moves once per content change)',
      registers,
      collect() {
        this.set(registry.version);
      },
    });
  }

  /** Counts a request served, by route name and status code. */
  served(route: string, code: number): void {
    this.#requests.inc({ route, code: String(code) });
  }
}
