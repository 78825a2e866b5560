import type { AddressInfo } from 'node:net';
import { type ApiServer, createApiServer } from '@vmcp/backend-watcher';
import { silentLogger } from '@vmcp/kube-runtime';
import { type Backend, createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import { Registry } from 'prom-client';

/** The sidecar's HTTP API in process, over a registry the test changes directly. */
export interface InProcessSidecar extends AsyncDisposable {
  readonly url: string;
  readonly registry: DynamicRegistry;
  readonly state: { ready: boolean };
  readonly api: ApiServer;
  close(): Promise<void>;
}

export interface InProcessOptions {
  apiToken?: string;
  heartbeatMs?: number;
  initialVersion?: number;
  /** Listen on this port (a restart on the same address). */
  port?: number;
  registry?: DynamicRegistry;
}

export async function startApi(options: InProcessOptions = {}): Promise<InProcessSidecar> {
  const registry =
    options.registry ?? createDynamicRegistry([], { initialVersion: options.initialVersion ?? 0 });
  const state = { ready: true };
  const api = createApiServer({
    registry,
    apiToken: options.apiToken,
    alive: () => true,
    ready: () => state.ready,
    metricsRegistry: new Registry(),
    logger: silentLogger,
    heartbeatMs: options.heartbeatMs ?? 60_000,
  });
  await new Promise<void>((resolve) =>
    api.server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, resolve),
  );
  const { port } = api.server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      api.drain();
      api.server.closeAllConnections();
      await new Promise((resolve) => api.server.close(resolve));
    })();
    return closing;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    registry,
    state,
    api,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A minimal valid backend; `overrides` replace fields. */
export function backend(id: string, overrides: Partial<Backend> = {}): Backend {
  return {
    id,
    name: id,
    baseUrl: `http://${id}.tools.svc:8080/mcp`,
    transportType: 'streamable-http',
    healthStatus: 'healthy',
    metadata: { namespace: 'tools' },
    ...overrides,
  };
}
