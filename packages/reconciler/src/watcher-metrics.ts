import { loadPromClient } from '@vmcp/kube-runtime';
import type { Counter, Registry } from 'prom-client';
import type { FailingRead } from './failing-reads.js';

/** What the watcher's gauges read when they are collected. */
export interface WatcherMetricSources {
  failingReads(): FailingRead[];
  /** How many Secrets the refresh reads each period. */
  secretsTracked(): number;
  /** Wall-clock time (epoch ms). */
  now(): number;
}

/** The watcher's own metrics (beside the runtime's), recorded into one prom-client registry. */
export interface WatcherMetrics {
  shadowed: Counter<'kind'>;
  skipped: Counter<'reason'>;
  /** Reads of the secret refresh, by `result`: `unchanged`, `changed` or `failed`. */
  secretRefreshReads: Counter<'result'>;
}

/**
 * Creates the watcher's metrics in `registry`. prom-client is loaded only now, so that a watcher
 * without metrics never pays for it, and only its collector classes (`loadPromClient`): the same
 * classes as the caller's `import`.
 */
export function createWatcherMetrics(
  registry: Registry,
  sources: WatcherMetricSources,
): WatcherMetrics {
  const { Counter, Gauge } = loadPromClient();
  const registers = [registry];
  const kept = () => sources.failingReads().filter((failing) => failing.served);
  new Gauge({
    name: 'vmcp_backends_kept_stale',
    help: 'Served backends kept as last resolved because a read they need fails for a transient reason',
    registers,
    collect() {
      this.set(kept().length);
    },
  });
  new Gauge({
    name: 'vmcp_backends_kept_stale_oldest_seconds',
    help: 'Age of the oldest resolution among the backends kept stale (0 when none is)',
    registers,
    collect() {
      const oldest = Math.min(...kept().map((k) => k.lastResolvedAt ?? k.failingSince));
      this.set(Number.isFinite(oldest) ? Math.max(0, (sources.now() - oldest) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'vmcp_secret_refresh_secrets',
    help: 'Secrets re-read every secret refresh period (each once, however many backends use it)',
    registers,
    collect() {
      this.set(sources.secretsTracked());
    },
  });
  return {
    shadowed: new Counter({
      name: 'vmcp_backend_shadowed_total',
      help: 'Reconciles that found several workload kinds of the group sharing one name (the first in precedence wins)',
      labelNames: ['kind'],
      registers,
    }),
    skipped: new Counter({
      name: 'vmcp_backend_skipped_total',
      help: 'Workloads of the group that are not backends, by reason',
      labelNames: ['reason'],
      registers,
    }),
    secretRefreshReads: new Counter({
      name: 'vmcp_secret_refresh_reads_total',
      help: 'Secret reads of the secret refresh (GET, metadata only), by what they found',
      labelNames: ['result'],
      registers,
    }),
  };
}
