import { type Env, startEnv } from '@vmcp/envtest';
import { eventually } from '@vmcp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, ResourceClient } from '../src/client.js';
import { Controller } from '../src/controller.js';
import { createInformer } from '../src/informer.js';
import type { KubeObject, ResourceRef } from '../src/types.js';

const mcpServers: ResourceRef = {
  group: 'toolhive.stacklok.dev',
  version: 'v1beta1',
  plural: 'mcpservers',
  kind: 'MCPServer',
};
const roles: ResourceRef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'roles',
  kind: 'Role',
};
const bindings: ResourceRef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'rolebindings',
  kind: 'RoleBinding',
};
const server = (name: string, image = 'ghcr.io/example/fetch:1'): KubeObject => ({
  apiVersion: 'toolhive.stacklok.dev/v1beta1',
  kind: 'MCPServer',
  metadata: { name, namespace: 'default' },
  spec: { image, transport: 'streamable-http' },
});

describe('informer on a real API server', () => {
  let env: Env;
  let admin: ResourceClient;
  beforeAll(async () => {
    // Watches go to etcd, so compaction makes an old watch fail with 410 at once.
    env = await startEnv({ watchCache: false });
    admin = new ResourceClient(new KubeClient(env.kubeConfig), mcpServers, 'default');
  });
  afterAll(async () => {
    await env?.stop();
  });

  const names = (informer: { store: { list(): KubeObject[] } }) =>
    informer.store
      .list()
      .map((o) => o.metadata.name)
      .sort();

  it('detects that kube-apiserver 1.20 has no watch-list, and lists then watches instead', async () => {
    await admin.create(server('wl-a'));
    const messages: string[] = [];
    const logger = {
      trace: () => {},
      debug: () => {},
      info: (_fields: unknown, message?: string) => messages.push(message ?? ''),
      warn: (_fields: unknown, message?: string) => messages.push(message ?? ''),
      error: (_fields: unknown, message?: string) => messages.push(message ?? ''),
      child: () => logger,
    };
    const informer = createInformer({
      kubeConfig: env.kubeConfig,
      resource: mcpServers,
      namespace: 'default',
      logger,
    });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    expect(await informer.waitForSync(AbortSignal.timeout(60_000))).toBe(true);
    expect(names(informer)).toContain('wl-a');
    expect(messages).toContain('watch-list not supported by the server; listing then watching');
    stop.abort();
    await running;
    await admin.delete('wl-a');
  });

  it('lists and watches custom resources: add, update, delete', async () => {
    await admin.create(server('w-a'));
    const informer = createInformer({
      kubeConfig: env.kubeConfig,
      resource: mcpServers,
      namespace: 'default',
    });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => seen.push(`add:${o.metadata.name}`),
      onUpdate: (_o, n) => seen.push(`update:${n.metadata.name}`),
      onDelete: (o) => seen.push(`delete:${o.metadata.name}`),
    });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    expect(await informer.waitForSync(AbortSignal.timeout(60_000))).toBe(true);
    await admin.create(server('w-b'));
    await admin.patch('w-b', { spec: { image: 'ghcr.io/example/fetch:2' } });
    await admin.delete('w-a');
    await eventually(() => seen.includes('delete:w-a'));
    expect(seen.filter((s) => s.includes('w-'))).toEqual([
      'add:w-a',
      'add:w-b',
      'update:w-b',
      'delete:w-a',
    ]);
    stop.abort();
    await running;
    await admin.delete('w-b');
  });

  it('sees, after a relist, a delete that happened while its watch was down, and loses nothing', async () => {
    // The informer runs as the non-admin user; taking its RoleBinding away (and restarting the
    // API server to drop the open watch) keeps its watch down while the admin changes things.
    const rbac = new KubeClient(env.kubeConfig);
    await new ResourceClient(rbac, roles, 'default').create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reader' },
      rules: [
        {
          apiGroups: ['toolhive.stacklok.dev'],
          resources: ['mcpservers'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    } as KubeObject);
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: env.nonAdmin.username },
      ],
    } as KubeObject;
    const bindingClient = new ResourceClient(rbac, bindings, 'default');
    await bindingClient.create(binding);
    await admin.create(server('r-keep'));
    await admin.create(server('r-gone'));

    const informer = createInformer({
      kubeConfig: env.nonAdmin.kubeConfig,
      resource: mcpServers,
      namespace: 'default',
      watcher: { backoff: { initialMs: 50, maxMs: 200 } },
    });
    const deletes: string[] = [];
    informer.addEventHandler({
      onDelete: (o, unknown) => deletes.push(`${o.metadata.name}:${unknown}`),
    });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.waitForSync(AbortSignal.timeout(60_000));
    const synced = informer.lastSyncResourceVersion;
    // RBAC can take a moment to see the binding: wait until the informer really synced.
    await eventually(() => names(informer).includes('r-gone'));

    await bindingClient.delete('reader');
    await env.restart();
    await admin.delete('r-gone');
    await admin.create(server('r-new'));
    for (let i = 0; i < 3; i++)
      await admin.patch('r-keep', { metadata: { labels: { step: String(i) } } });
    await env.compact();
    await bindingClient.create(binding);

    await eventually(() => deletes.includes('r-gone:true'), {
      what: 'the delete seen by the relist',
    });
    await eventually(() => names(informer).includes('r-new'), { what: 'the new object' });
    const truth = (await admin.list()).items.map((o) => o.metadata.name).sort();
    expect(names(informer)).toEqual(truth);
    expect(informer.lastSyncResourceVersion).not.toBe(synced);
    stop.abort();
    await running;
  });

  it('detects a paused API server with the stall watchdog and resumes the watch', async () => {
    const restarts: string[] = [];
    const informer = createInformer({
      kubeConfig: env.kubeConfig,
      resource: mcpServers,
      namespace: 'default',
      watcher: { stallTimeoutMs: 1000, backoff: { initialMs: 50, maxMs: 200 } },
      metrics: {
        relist: () => {},
        restart: (_r, reason) => restarts.push(reason),
        event: () => {},
      },
    });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.waitForSync(AbortSignal.timeout(60_000));
    env.pause();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    env.resume();
    await eventually(() => restarts.includes('stalled'), { what: 'a stall restart' });
    await admin.create(server('after-pause'));
    await eventually(() => names(informer).includes('after-pause'), {
      what: 'the object created after the pause',
    });
    stop.abort();
    await running;
  });

  it('survives an API server restart', async () => {
    const informer = createInformer({
      kubeConfig: env.kubeConfig,
      resource: mcpServers,
      namespace: 'default',
      watcher: { backoff: { initialMs: 50, maxMs: 500 } },
    });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.waitForSync(AbortSignal.timeout(60_000));
    await env.restart();
    await admin.create(server('after-restart'));
    await eventually(() => names(informer).includes('after-restart'), {
      what: 'the object created after the restart',
    });
    stop.abort();
    await running;
  });

  it('never reconciles one key twice at once under a storm of events', async () => {
    for (let i = 0; i < 10; i++) await admin.create(server(`storm-${i}`));
    const informer = createInformer({
      kubeConfig: env.kubeConfig,
      resource: mcpServers,
      namespace: 'default',
    });
    const active = new Set<string>();
    let overlaps = 0;
    let reconciles = 0;
    const controller = new Controller({
      name: 'storm',
      maxConcurrentReconciles: 4,
      reconcile: async ({ name }) => {
        if (active.has(name)) overlaps++;
        active.add(name);
        reconciles++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        active.delete(name);
      },
    });
    controller.watches(informer, (o) =>
      (o.metadata.name ?? '').startsWith('storm-')
        ? [{ namespace: 'default', name: o.metadata.name as string }]
        : [],
    );
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    const controlling = controller.start(stop.signal);
    await informer.waitForSync(AbortSignal.timeout(60_000));
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        for (let round = 0; round < 8; round++) {
          await admin.patch(`storm-${i}`, { metadata: { labels: { round: String(round) } } });
        }
      }),
    );
    await eventually(() => informer.store.get(`default/storm-9`)?.metadata.labels?.round === '7');
    await eventually(() => controller.queue.len() === 0 && controller.queue.processingCount === 0);
    expect(overlaps).toBe(0);
    expect(reconciles).toBeGreaterThanOrEqual(10);
    stop.abort();
    await Promise.all([running, controlling]);
  });
});
