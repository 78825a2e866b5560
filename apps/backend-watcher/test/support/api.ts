import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { silentLogger } from '@vmcp/kube-runtime';
import { type Backend, createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import { Registry } from 'prom-client';
import { type ApiServer, type ApiServerOptions, createApiServer } from '../../src/http.js';

/** A test backend of namespace `tools`. */
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

/** A running API server on a free loopback port, and what a test reads of it. */
export interface Harness {
  url: string;
  port: number;
  registry: DynamicRegistry;
  api: ApiServer;
  state: { alive: boolean; ready: boolean; pending: string[] };
  metrics: Registry;
  /** Ends every stream and connection and closes the server. */
  close(): Promise<void>;
}

/** Starts {@link createApiServer} with a 100 ms heartbeat (its shortest) and what `options` change. */
export async function startApi(options: Partial<ApiServerOptions> = {}): Promise<Harness> {
  const state = { alive: true, ready: true, pending: [] as string[] };
  const metrics = new Registry();
  const registry = options.registry ?? createDynamicRegistry();
  const api = createApiServer({
    registry,
    alive: () => state.alive,
    ready: () => state.ready,
    pending: () => state.pending,
    explain: async (name) => ({ name, explained: true }),
    metricsRegistry: metrics,
    logger: silentLogger,
    heartbeatMs: 100,
    ...options,
  });
  await new Promise<void>((resolve) => api.server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = api.server.address() as AddressInfo;
  const close = async () => {
    api.drain();
    api.server.closeAllConnections();
    await new Promise((resolve) => api.server.close(resolve));
  };
  return { url: `http://127.0.0.1:${port}`, port, registry, api, state, metrics, close };
}

/** One exchange on a raw socket: what the server wrote before it closed (or `timeoutMs`). */
export interface RawReply {
  /** Everything the server sent, as latin1 text. */
  text: string;
  /** The status of each response in it, in order. */
  statuses: number[];
  /** True when the server closed the connection (rather than the timeout ending it). */
  closed: boolean;
}

/**
 * Sends `bytes` on a new connection, half-closes it (unless `halfClose` is false: Node's server
 * then ends the connection at once, before answers still being made), and collects the answer
 * until the server closes the connection or `timeoutMs` passes.
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  timeoutMs = 10_000,
  halfClose = true,
): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ text, statuses, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    if (halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

/** The JSON error bodies in a raw reply, in order. */
export function errorBodies(reply: RawReply): { status: number; message: string }[] {
  return [
    ...reply.text.matchAll(/\{"error":(\{"status":\d+,"message":"(?:[^"\\]|\\.)*"\})\}/g),
  ].map((m) => JSON.parse(m[1] as string) as { status: number; message: string });
}
