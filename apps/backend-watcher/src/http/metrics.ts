import { loadPromClient } from '@vmcp/kube-runtime';
import type { DynamicRegistry } from '@vmcp/registry';
import type { Counter, Gauge, Registry } from 'prom-client';

/** The HTTP API's Prometheus metrics, and the registry's size and version, in one registry. */
export class HttpMetrics {
  readonly #requests: Counter;
  /** Open long-polls and event streams, by kind. */
  readonly streams: Gauge<'kind'>;
  /** Long-polls and event streams refused because `maxStreams` were open, by kind. */
  readonly streamsRefused: Counter<'kind'>;
  /** Event streams dropped because their client did not read within the slow-client timeout. */
  readonly slowStreamsDropped: Counter;
  /** Unexpected errors the server survived (see `LastResort`), by where they came from. */
  readonly requestErrors: Counter<'source'>;

  constructor(metricsRegistry: Registry, registry: DynamicRegistry, maxStreams: number) {
    // prom-client's collector classes only, not its cluster, push gateway or default metrics.
    const { Counter, Gauge } = loadPromClient();
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
      name: 'vmcp_http_max_streams',
      help: 'Long-polls and event streams allowed at once (--max-streams); more get 503',
      registers,
    }).set(maxStreams);
    this.streamsRefused = new Counter({
      name: 'vmcp_http_streams_refused_total',
      help: 'Long-polls and event streams refused with 503 because --max-streams were open',
      labelNames: ['kind'],
      registers,
    });
    this.slowStreamsDropped = new Counter({
      name: 'vmcp_http_slow_streams_dropped_total',
      help: 'Event streams dropped because the client read nothing for the slow-client timeout',
      registers,
    });
    this.requestErrors = new Counter({
      name: 'vmcp_http_request_errors_total',
      help: 'Unexpected errors the HTTP server survived (a 500 or one closed connection each), by source',
      labelNames: ['source'],
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
