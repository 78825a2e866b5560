// registry-client's metrics take a prom-client Registry (an optional peer, typed by its shape:
// the client's types need no prom-client), and nothing else.
import { connectRegistry } from '@vmcp/registry-client';
import { Registry } from 'prom-client';

export const withMetrics = () =>
  connectRegistry({ url: 'http://127.0.0.1:8080', metrics: { registry: new Registry() } });
// @ts-expect-error: not a registry
export const wrong = () => connectRegistry({ url: 'http://x', metrics: { registry: {} } });
