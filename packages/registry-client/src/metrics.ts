import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import type { ConnectionPhase } from './connection.js';
import type { MetricsRegistry } from './options.js';
import type { RegistryClientStatus } from './status.js';

const PHASES: readonly ConnectionPhase[] = [
  'connecting',
  'streaming',
  'polling',
  'backingOff',
  'failed',
  'closed',
];

type Source = () => RegistryClientStatus;

/**
 * The clients reporting into each prom-client registry: the collectors are registered once per
 * registry and read every client's status when scraped, so several clients can share one.
 */
const sources = new WeakMap<MetricsRegistry, Map<string, Source>>();

/**
 * Registers the client's metrics (prom-client is loaded here, on first use, never by a program
 * that asks for none) and returns what removes them:
 * - `vmcp_registry_client_state{client,state}`: 1 for the connection's phase, 0 for the others;
 * - `vmcp_registry_client_reconnects_total{client,reason}`: attempts that ended in a retry
 *   (`stall`, `ended`, `malformed`, `stream-not-held`, `not-ready`, `unreachable`);
 * - `vmcp_registry_client_resets_total{client}`: snapshots after the first;
 * - `vmcp_registry_client_version{client}` and `vmcp_registry_client_version_lag{client}`: the
 *   sidecar version held, and how many versions the sidecar announced beyond it.
 */
export function attachMetrics(
  registry: MetricsRegistry,
  client: string,
  status: Source,
): () => void {
  let clients = sources.get(registry);
  if (clients === undefined) {
    clients = new Map();
    sources.set(registry, clients);
    register(registry, clients);
  }
  if (clients.has(client)) {
    throw new RangeError(`metrics: a client named "${client}" already reports to this registry`);
  }
  clients.set(client, status);
  const map = clients;
  return () => map.delete(client);
}

function register(registry: MetricsRegistry, clients: Map<string, Source>): void {
  const { Counter, Gauge } = createRequire(import.meta.url)(
    'prom-client',
  ) as typeof import('prom-client');
  // The caller's prom-client Registry, typed by its shape (MetricsRegistry).
  const registers = [registry as unknown as Registry];
  new Gauge({
    name: 'vmcp_registry_client_state',
    help: 'The registry client connection phase (1 for the current one)',
    labelNames: ['client', 'state'],
    registers,
    collect() {
      this.reset();
      for (const [client, status] of clients) {
        const { phase } = status();
        for (const state of PHASES) this.set({ client, state }, state === phase ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'vmcp_registry_client_reconnects_total',
    help: 'Registry client attempts that ended in a retry, by reason',
    labelNames: ['client', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const [client, status] of clients) {
        for (const [reason, count] of Object.entries(status().reconnects)) {
          this.inc({ client, reason }, count);
        }
      }
    },
  });
  new Counter({
    name: 'vmcp_registry_client_resets_total',
    help: 'Snapshots the registry client took after its first (sidecar restarts, long gaps)',
    labelNames: ['client'],
    registers,
    collect() {
      this.reset();
      for (const [client, status] of clients) this.inc({ client }, status().resets);
    },
  });
  new Gauge({
    name: 'vmcp_registry_client_version',
    help: 'The sidecar registry version the client holds',
    labelNames: ['client'],
    registers,
    collect() {
      this.reset();
      for (const [client, status] of clients) {
        const { sidecarVersion } = status();
        if (sidecarVersion !== undefined) this.set({ client }, sidecarVersion);
      }
    },
  });
  new Gauge({
    name: 'vmcp_registry_client_version_lag',
    help: 'Versions the sidecar announced beyond what the client holds',
    labelNames: ['client'],
    registers,
    collect() {
      this.reset();
      for (const [client, status] of clients) this.set({ client }, status().versionLag);
    },
  });
}
