import { startFakeApiServer } from '@vmcp/fake-apiserver';
import { createDynamicRegistry } from '@vmcp/registry';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { expect, it } from 'vitest';
import { BackendWatcher, RESOURCES } from '../src/index.js';

it('registers one namespaced watch per source: the three workload kinds, auth configs, ConfigMaps (never Secrets)', async () => {
  await using fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  const watcher = new BackendWatcher({
    kubeConfig: fake.kubeConfig,
    namespace: 'tools',
    groupRef: 'g',
    registry: createDynamicRegistry(),
  });
  const stop = new AbortController();
  const done = watcher.start(stop.signal);
  try {
    const [controller, ...others] = watcher.manager.controllers;
    expect(others).toEqual([]);
    expect(controller?.watched.map((w) => [w.resource.kind, w.namespace])).toEqual([
      ['MCPServer', 'tools'],
      ['MCPRemoteProxy', 'tools'],
      ['MCPServerEntry', 'tools'],
      ['MCPExternalAuthConfig', 'tools'],
      ['ConfigMap', 'tools'],
    ]);
    expect(controller?.watched.map((w) => w.resource)).not.toContainEqual(RESOURCES.Secret);
  } finally {
    stop.abort();
    await done;
  }
});
