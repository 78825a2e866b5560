import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { createDynamicRegistry } from '@vmcp/registry';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BackendWatcher, RESOURCES } from '../src/index.js';

const NS = 'default';
let env: Env;

beforeAll(async () => {
  env = await startEnv({ watchCache: false });
});
afterAll(async () => {
  await env?.stop();
});

it('reports registry sync only once every pre-existing workload was reconciled', async () => {
  const servers = new ResourceClient(new KubeClient(env.kubeConfig), RESOURCES.MCPServer, NS);
  const names = Array.from({ length: 40 }, (_, i) => `server-${i}`);
  for (const name of names) {
    await servers.create({
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPServer',
      metadata: { name },
      spec: { image: 'example/mcp:1', transport: 'sse', groupRef: { name: 'g' } },
    } as KubeObject);
    await servers.patchStatus(name, { status: { phase: 'Ready', url: `http://${name}:8080` } });
  }
  const registry = createDynamicRegistry();
  const watcher = new BackendWatcher({
    kubeConfig: env.kubeConfig,
    namespace: NS,
    groupRef: 'g',
    registry,
  });
  expect(watcher.hasSynced()).toBe(false);
  expect(await watcher.waitForRegistrySync()).toBe(false); // not started
  const stop = new AbortController();
  const done = watcher.start(stop.signal);
  try {
    expect(await watcher.waitForRegistrySync({ timeoutMs: 60_000 })).toBe(true);
    // No polling: at the moment it reports synced, the registry holds every backend.
    expect(registry.list().map((b) => b.id)).toEqual([...names].sort());
    expect(watcher.hasSynced()).toBe(true);
  } finally {
    stop.abort();
    await done;
  }
});
