import {
  createInformer,
  KubeClient,
  type KubeObject,
  ResourceClient,
  type ResourceRef,
} from '@vmcp/kube-runtime';
import { eventually } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from '../src/index.js';

const CONFIGMAP: ResourceRef = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
};
const NS = 'default';
let fake: FakeApiServer;
let client: KubeClient;
let configMaps: ResourceClient;

beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths, bookmarkIntervalMs: 200 });
  client = new KubeClient(fake.kubeConfig);
  configMaps = new ResourceClient(client, CONFIGMAP, NS);
});
afterAll(async () => {
  await client?.close();
  await fake?.close();
});

const configMap = (name: string, labels: Record<string, string>) =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels },
    data: { v: name },
  }) as KubeObject;

/** An informer over ConfigMaps with one label, counting what the watch went through. */
function informer(label: string) {
  const restarts: string[] = [];
  let relists = 0;
  const handle = createInformer({
    client,
    resource: CONFIGMAP,
    namespace: NS,
    labelSelector: `suite=${label}`,
    watcher: {
      stallTimeoutMs: 800,
      backoff: { initialMs: 20, maxMs: 200 },
      observer: {
        onRelist: () => {
          relists++;
        },
        onWatchRestart: (reason) => restarts.push(reason),
      },
    },
  });
  const stop = new AbortController();
  const done = handle.run(stop.signal);
  return {
    handle,
    restarts,
    relists: () => relists,
    names: () =>
      handle.store
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}

describe('fault controls, seen by the kube-runtime informer', () => {
  it('drops every open watch; the informer resumes without a relist and loses nothing', async () => {
    await configMaps.create(configMap('drop-a', { suite: 'drop' }));
    const inf = informer('drop');
    try {
      expect(await inf.handle.waitForSync()).toBe(true);
      await eventually(() => fake.faults.openWatches() === 1);
      const relistsBefore = inf.relists();
      fake.faults.dropWatches();
      await configMaps.create(configMap('drop-b', { suite: 'drop' }));
      await eventually(() => inf.names().includes('drop-b'));
      expect(inf.restarts.length).toBeGreaterThan(0);
      expect(inf.relists()).toBe(relistsBefore);
    } finally {
      await inf.stop();
    }
  });

  it('compacts history: a resumed watch gets 410 in the stream, relists, and sees a delete made meanwhile', async () => {
    await configMaps.create(configMap('gone-a', { suite: 'gone' }));
    await configMaps.create(configMap('gone-b', { suite: 'gone' }));
    const inf = informer('gone');
    try {
      expect(await inf.handle.waitForSync()).toBe(true);
      await eventually(() => fake.faults.openWatches() === 1);
      // While the informer's watch is down, one object goes away and the history is compacted.
      fake.faults.stall(true);
      fake.faults.dropWatches();
      fake.faults.stall(false);
      await configMaps.delete('gone-a');
      fake.faults.compact();
      await eventually(() => !inf.names().includes('gone-a'));
      expect(inf.names()).toEqual(['gone-b']);
      expect(inf.restarts).toContain('gone');
    } finally {
      await inf.stop();
    }
  });

  it('answers the next requests with 429 and Retry-After; the informer retries and syncs', async () => {
    await configMaps.create(configMap('busy-a', { suite: 'busy' }));
    fake.faults.failNext(3, { status: 429, retryAfterSeconds: 0 });
    const inf = informer('busy');
    try {
      expect(await inf.handle.waitForSync()).toBe(true);
      expect(inf.names()).toEqual(['busy-a']);
    } finally {
      await inf.stop();
    }
    fake.faults.failNext(1, { status: 500 });
    await expect(configMaps.get('busy-a')).rejects.toMatchObject({ code: 500 });
    await expect(configMaps.get('busy-a')).resolves.toMatchObject({ metadata: { name: 'busy-a' } });
  });

  it("stalls: the informer's watchdog aborts the silent watch, and it resumes after the stall", async () => {
    const inf = informer('stall');
    try {
      expect(await inf.handle.waitForSync()).toBe(true);
      await eventually(() => fake.faults.openWatches() === 1);
      fake.faults.stall(true);
      await eventually(() => inf.restarts.includes('stalled'));
      fake.faults.stall(false);
      await configMaps.create(configMap('stall-a', { suite: 'stall' }));
      await eventually(() => inf.names().includes('stall-a'));
    } finally {
      fake.faults.stall(false);
      await inf.stop();
    }
  });
});

describe('what only the fake does on demand', () => {
  it('answers an expired continue token with 410 Expired', async () => {
    for (let i = 0; i < 3; i++) await configMaps.create(configMap(`cont-${i}`, { suite: 'cont' }));
    const page = await configMaps.listPage({ limit: 1, labelSelector: 'suite=cont' });
    await configMaps.create(configMap('cont-late', { suite: 'other' }));
    fake.faults.compact();
    await expect(
      configMaps.listPage({ limit: 1, continue: page.metadata.continue ?? '' }),
    ).rejects.toMatchObject({ code: 410, reason: 'Expired' });
  });

  it('streams watch-list: the initial objects, then a bookmark marking their end', async () => {
    await configMaps.create(configMap('wl-a', { suite: 'wl' }));
    const controller = new AbortController();
    const response = await client.stream(
      `/api/v1/namespaces/${NS}/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=suite%3Dwl`,
      controller.signal,
    );
    const events: { type: string; object: KubeObject }[] = [];
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (line) events.push(JSON.parse(line));
      if (events.length >= 2) break;
    }
    controller.abort();
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'wl-a' } } });
    expect(events[1]).toMatchObject({
      type: 'BOOKMARK',
      object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });
  });

  it('serves the kube-runtime informer with watch-list, without a list request', async () => {
    await configMaps.create(configMap('wl-informer', { suite: 'wl-informer' }));
    const handle = createInformer({
      client,
      resource: CONFIGMAP,
      namespace: NS,
      labelSelector: 'suite=wl-informer',
      watcher: { watchList: 'always' },
    });
    const stop = new AbortController();
    const running = handle.run(stop.signal);
    expect(await handle.waitForSync(AbortSignal.timeout(10_000))).toBe(true);
    expect(handle.store.list().map((o) => o.metadata.name)).toEqual(['wl-informer']);
    await configMaps.create(configMap('wl-later', { suite: 'wl-informer' }));
    await eventually(() => handle.store.list().length === 2);
    stop.abort();
    await running;
  });

  it('sends periodic bookmarks to watches that allow them', async () => {
    const rv = (await configMaps.list()).metadata.resourceVersion;
    const controller = new AbortController();
    const response = await client.stream(
      `/api/v1/namespaces/${NS}/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
      controller.signal,
    );
    let text = '';
    for await (const chunk of response.body) {
      text += chunk.toString();
      if (text.includes('\n')) break;
    }
    controller.abort();
    expect(JSON.parse(text.split('\n')[0] ?? '')).toMatchObject({
      type: 'BOOKMARK',
      object: { kind: 'ConfigMap', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } },
    });
  });

  it("stops serving a CRD's kind once the CRD is deleted", async () => {
    const crds = new ResourceClient(client, {
      group: 'apiextensions.k8s.io',
      version: 'v1',
      plural: 'customresourcedefinitions',
      kind: 'CustomResourceDefinition',
    });
    const groups = new ResourceClient(
      client,
      { group: 'toolhive.stacklok.dev', version: 'v1beta1', plural: 'mcpgroups', kind: 'MCPGroup' },
      NS,
    );
    await groups.create({
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPGroup',
      metadata: { name: 'g' },
    } as KubeObject);
    const crd = await crds.get('mcpgroups.toolhive.stacklok.dev');
    expect(
      (crd.status as { conditions: { type: string; status: string }[] }).conditions,
    ).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    await crds.delete('mcpgroups.toolhive.stacklok.dev');
    await expect(groups.list()).rejects.toMatchObject({ code: 404 });
  });

  it('refuses requests without a known token', async () => {
    const response = await fetch(`${fake.url.replace('https', 'http')}/api/v1/namespaces`).catch(
      () => undefined,
    );
    expect(response?.ok ?? false).toBe(false);
  });
});
