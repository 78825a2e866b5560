import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RegistryChange } from '@vmcp/registry';
import { afterEach } from 'vitest';
import {
  connectRegistry,
  type Logger,
  type RegistryClient,
  type RegistryClientOptions,
} from '../../src/index.js';
import { type InProcessOptions, type InProcessSidecar, startApi } from './api.js';

/**
 * What the in-process tests share: sidecars, clients and servers that are closed after each
 * test (in reverse order), and small waits.
 */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The sidecar's HTTP API in process, closed after the test. */
export async function sidecar(options: InProcessOptions = {}): Promise<InProcessSidecar> {
  const api = await startApi(options);
  cleanups.push(() => api.close());
  return api;
}

/** A client, closed after the test. */
export function client(options: RegistryClientOptions): RegistryClient {
  const registry = connectRegistry(options);
  cleanups.push(() => registry.close());
  return registry;
}

/** A plain HTTP server answering with `handle` (a sidecar that misbehaves), closed after the test. */
export async function scriptedServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Resolves once the client holds the sidecar's version. */
export async function caughtUp(registry: RegistryClient, api: InProcessSidecar): Promise<void> {
  while (registry.status().sidecarVersion !== api.registry.version) {
    await registry.waitForChange(registry.version, { timeoutMs: 200 });
  }
}

/** Lets pending I/O callbacks and promise continuations run. */
export const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

/** The next `count` changes of a feed. */
export async function take(feed: AsyncIterator<RegistryChange>, count: number) {
  const out: RegistryChange[] = [];
  while (out.length < count) {
    const next = await feed.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/** A logger that keeps every line as its message and fields. */
export function recordingLogger(): Logger & { lines: { message: string; fields: object }[] } {
  const lines: { message: string; fields: object }[] = [];
  const log = (fields: object | string, message?: string) => {
    lines.push(
      typeof fields === 'string'
        ? { fields: {}, message: fields }
        : { fields, message: message ?? '' },
    );
  };
  return { lines, debug: log, info: log, warn: log, error: log };
}

/**
 * How many of `refs` still reach their object after full garbage collections: what some code
 * kept (0 when nothing did). Collects until none is left, five times at most.
 */
export async function stillHeld(refs: readonly WeakRef<object>[]): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const alive = () => refs.filter((ref) => ref.deref() !== undefined).length;
  for (let i = 0; i < 5 && alive() > 0; i++) {
    // A WeakRef read in this turn keeps its object until the turn ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return alive();
}
