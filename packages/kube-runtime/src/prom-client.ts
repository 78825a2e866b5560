import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The prom-client classes a program needs to record metrics and serve them. */
export interface PromClient {
  Registry: typeof Registry;
  Counter: typeof Counter;
  Gauge: typeof Gauge;
  Histogram: typeof Histogram;
}

/** The files of prom-client's package that hold those classes (the index requires the same). */
const PARTS = {
  Registry: 'prom-client/lib/registry',
  Counter: 'prom-client/lib/counter',
  Gauge: 'prom-client/lib/gauge',
  Histogram: 'prom-client/lib/histogram',
} as const;

let loaded: PromClient | undefined;

/**
 * prom-client's `Registry`, `Counter`, `Gauge` and `Histogram`, loaded on the first call and
 * without the rest of the package: its index also loads the cluster aggregator (and Node's
 * `cluster`), the push gateway, the default process metrics, summaries and OpenTelemetry, about
 * 90 modules and 70 ms of a start-up that a program recording these four never uses. prom-client
 * is CommonJS and its index re-exports these very files, so the classes are the ones
 * `import { Registry } from 'prom-client'` gives: a registry made either way takes the others'
 * metrics. A prom-client whose files are laid out otherwise is loaded whole.
 */
export function loadPromClient(): PromClient {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  try {
    loaded = {
      Registry: require(PARTS.Registry),
      Counter: require(PARTS.Counter),
      Gauge: require(PARTS.Gauge),
      Histogram: require(PARTS.Histogram),
    };
  } catch {
    loaded = require('prom-client') as PromClient;
  }
  return loaded;
}
