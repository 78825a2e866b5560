import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient, type ResourceRef } from '@vmcp/kube-runtime';
import { createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import { eventually } from '@vmcp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendWatcher, type BackendWatcherOptions, RESOURCES } from '../src/index.js';

const NS = 'default';
const GROUP = 'engineering';
const API = 'toolhive.stacklok.dev/v1beta1';
const PEM_1 = '-----BEGIN CERTIFICATE-----\nONE\n-----END CERTIFICATE-----\n';
const PEM_2 = '-----BEGIN CERTIFICATE-----\nTWO\n-----END CERTIFICATE-----\n';

let env: Env;
let clients: Record<keyof typeof RESOURCES, ResourceClient>;
const watchers: { stop: AbortController; done: Promise<void> }[] = [];

beforeAll(async () => {
  env = await startEnv({ watchCache: false });
  const client = new KubeClient(env.kubeConfig);
  clients = Object.fromEntries(
    Object.entries(RESOURCES).map(([kind, resource]) => [
      kind,
      new ResourceClient(client, resource, NS),
    ]),
  ) as typeof clients;
});
afterAll(async () => {
  for (const w of watchers) w.stop.abort();
  await Promise.all(watchers.map((w) => w.done));
  await env?.stop();
});

async function startWatcher(
  group: string,
  extra: Partial<BackendWatcherOptions> = {},
): Promise<{ registry: DynamicRegistry; watcher: BackendWatcher }> {
  const registry = createDynamicRegistry();
  const watcher = new BackendWatcher({
    kubeConfig: env.kubeConfig,
    secretRefreshPeriodMs: 0,
    namespace: NS,
    groupRef: group,
    registry,
    watcher: { backoff: { initialMs: 50, maxMs: 500 }, stallTimeoutMs: 3000 },
    ...extra,
  });
  const stop = new AbortController();
  watchers.push({ stop, done: watcher.start(stop.signal) });
  expect(await watcher.waitForCacheSync({ timeoutMs: 60_000 })).toBe(true);
  return { registry, watcher };
}

async function create(
  kind: 'MCPServer' | 'MCPRemoteProxy' | 'MCPServerEntry',
  name: string,
  spec: object,
  status?: object,
) {
  const client = clients[kind];
  await client.create({ apiVersion: API, kind, metadata: { name }, spec } as KubeObject);
  if (status) await client.patchStatus(name, { status });
}
const serverSpec = (group = GROUP, extra: object = {}) => ({
  image: 'ghcr.io/example/fetch:1',
  transport: 'streamable-http',
  groupRef: { name: group },
  ...extra,
});
const ready = (name: string) => ({
  phase: 'Ready',
  url: `http://${name}.${NS}.svc.cluster.local:8080`,
});
const secret = (name: string, data: Record<string, string>) =>
  clients.Secret.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    data: Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
  } as KubeObject);

describe('BackendWatcher on a real API server', () => {
  let registry: DynamicRegistry;
  beforeAll(async () => {
    ({ registry } = await startWatcher(GROUP, { resyncPeriodMs: 500 }));
  });

  it('adds an MCPServer of the group once it has a URL, moves the version, and removes it on delete', async () => {
    const before = registry.version;
    await create('MCPServer', 'fetch', serverSpec());
    await new Promise((r) => setTimeout(r, 300));
    expect(registry.get('fetch')).toBeUndefined(); // no status.url yet
    await clients.MCPServer.patchStatus('fetch', { status: ready('fetch') });
    await eventually(() =>
      expect(registry.get('fetch')?.baseUrl).toBe(`http://fetch.${NS}.svc.cluster.local:8080`),
    );
    expect(registry.version).toBe(before + 1);
    await clients.MCPServer.delete('fetch');
    await eventually(() => expect(registry.get('fetch')).toBeUndefined());
    expect(registry.version).toBe(before + 2);
  });

  it("keeps no apply bookkeeping in its cache, and a workload's own annotations reach the backend", async () => {
    const { registry: own, watcher } = await startWatcher('applied');
    const spec = serverSpec('applied');
    await clients.MCPServer.create({
      apiVersion: API,
      kind: 'MCPServer',
      metadata: {
        name: 'applied',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec }),
          'example.com/team': 'tools',
        },
      },
      spec,
    } as KubeObject);
    await clients.MCPServer.patchStatus('applied', { status: ready('applied') });
    await eventually(() => expect(own.get('applied')?.metadata['example.com/team']).toBe('tools'));
    const servers = watcher.manager.informers.find((i) => i.resource.kind === 'MCPServer');
    const cached = servers?.store.get(`${NS}/applied`);
    expect(cached?.metadata.annotations).toEqual({ 'example.com/team': 'tools' });
    expect(cached?.metadata).not.toHaveProperty('managedFields');
    expect(Object.keys(own.get('applied')?.metadata ?? {})).not.toContain(
      'kubectl.kubernetes.io/last-applied-configuration',
    );
    await clients.MCPServer.delete('applied');
  });

  it('follows a group move in both directions', async () => {
    await create('MCPServer', 'mover', serverSpec(), ready('mover'));
    await eventually(() => expect(registry.get('mover')).toBeDefined());
    await clients.MCPServer.patch('mover', { spec: { groupRef: { name: 'sales' } } });
    await eventually(() => expect(registry.get('mover')).toBeUndefined());
    await clients.MCPServer.patch('mover', { spec: { groupRef: { name: GROUP } } });
    await eventually(() => expect(registry.get('mover')).toBeDefined());
  });

  it('adds an MCPRemoteProxy of the group and not one of another group', async () => {
    await create(
      'MCPRemoteProxy',
      'gh',
      { remoteUrl: 'https://api.github.example/mcp', transport: 'sse', groupRef: { name: GROUP } },
      ready('gh'),
    );
    await create(
      'MCPRemoteProxy',
      'gh-sales',
      { remoteUrl: 'https://x/mcp', groupRef: { name: 'sales' } },
      ready('gh-sales'),
    );
    await eventually(() =>
      expect(registry.get('gh')).toMatchObject({
        transportType: 'sse',
        metadata: { workload_type: 'remote_proxy' },
      }),
    );
    expect(registry.get('gh-sales')).toBeUndefined();
  });

  it('adds a Valid MCPServerEntry, not one of another group, and removes it on delete', async () => {
    const before = registry.version;
    await create(
      'MCPServerEntry',
      'remote',
      {
        remoteUrl: 'https://remote.example/mcp',
        transport: 'streamable-http',
        groupRef: { name: GROUP },
      },
      { phase: 'Valid' },
    );
    await create(
      'MCPServerEntry',
      'remote-sales',
      {
        remoteUrl: 'https://remote.example/mcp',
        transport: 'streamable-http',
        groupRef: { name: 'sales' },
      },
      { phase: 'Valid' },
    );
    await eventually(() => expect(registry.get('remote')).toMatchObject({ type: 'entry' }));
    expect(registry.get('remote-sales')).toBeUndefined();
    expect(registry.version).toBe(before + 1);
    await clients.MCPServerEntry.delete('remote');
    await eventually(() => expect(registry.get('remote')).toBeUndefined());
    expect(registry.version).toBe(before + 2);
  });

  it('adds a workload when its auth config appears and removes it when the config is deleted', async () => {
    await secret('hi-secret', { key: 'header-value' });
    await create(
      'MCPServer',
      'authed',
      serverSpec(GROUP, { externalAuthConfigRef: { name: 'hi' } }),
      ready('authed'),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(registry.get('authed')).toBeUndefined();
    await clients.MCPExternalAuthConfig.create({
      apiVersion: API,
      kind: 'MCPExternalAuthConfig',
      metadata: { name: 'hi' },
      spec: {
        type: 'headerInjection',
        headerInjection: { headerName: 'X-Key', valueSecretRef: { name: 'hi-secret', key: 'key' } },
      },
    } as KubeObject);
    await eventually(() =>
      expect(registry.get('authed')?.authConfig).toEqual({
        type: 'header_injection',
        headerName: 'X-Key',
        headerValue: 'header-value',
      }),
    );
    await clients.MCPExternalAuthConfig.delete('hi');
    await eventually(() => expect(registry.get('authed')).toBeUndefined());
  });

  it('picks up a referenced Secret that appears later through the periodic resync', async () => {
    await clients.MCPExternalAuthConfig.create({
      apiVersion: API,
      kind: 'MCPExternalAuthConfig',
      metadata: { name: 'late' },
      spec: {
        type: 'headerInjection',
        headerInjection: {
          headerName: 'X-Late',
          valueSecretRef: { name: 'late-secret', key: 'v' },
        },
      },
    } as KubeObject);
    await create(
      'MCPServer',
      'late-secret-user',
      serverSpec(GROUP, { externalAuthConfigRef: { name: 'late' } }),
      ready('late-secret-user'),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(registry.get('late-secret-user')).toBeUndefined();
    await secret('late-secret', { v: 'now-here' });
    await eventually(() =>
      expect(registry.get('late-secret-user')?.authConfig).toMatchObject({
        headerValue: 'now-here',
      }),
    );
  });

  it('updates an entry when its CA ConfigMap changes', async () => {
    await clients.ConfigMap.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ca' },
      data: { 'ca.crt': PEM_1 },
    } as KubeObject);
    await create(
      'MCPServerEntry',
      'with-ca',
      {
        remoteUrl: 'https://ca.example/mcp',
        transport: 'streamable-http',
        groupRef: { name: GROUP },
        caBundleRef: { configMapRef: { name: 'ca', key: 'ca.crt' } },
      },
      { phase: 'Valid' },
    );
    await eventually(() => expect(registry.get('with-ca')?.caBundleData).toBe(PEM_1));
    await clients.ConfigMap.patch('ca', { data: { 'ca.crt': PEM_2 } });
    await eventually(() => expect(registry.get('with-ca')?.caBundleData).toBe(PEM_2));
  });

  it('keeps two watchers of different groups in one namespace apart', async () => {
    const { registry: sales } = await startWatcher('sales');
    await eventually(() => expect(sales.get('gh-sales')).toBeDefined());
    expect(sales.get('gh')).toBeUndefined();
    expect(registry.get('gh-sales')).toBeUndefined();
    for (const backend of sales.list()) expect(registry.get(backend.id)).toBeUndefined();
  });
});

describe('BackendWatcher under faults', () => {
  it('converges to what the cluster holds after a pause, a restart and a compaction', async () => {
    const { registry } = await startWatcher('chaos');
    for (let i = 0; i < 5; i++)
      await create('MCPServer', `chaos-${i}`, serverSpec('chaos'), ready(`chaos-${i}`));
    await eventually(() => expect(registry.count()).toBe(5));
    env.pause();
    await new Promise((r) => setTimeout(r, 1500));
    env.resume();
    await env.restart();
    // Changes while the watches reconnect, then history compacted away.
    await clients.MCPServer.delete('chaos-0');
    await clients.MCPServer.patch('chaos-1', { spec: { groupRef: { name: 'elsewhere' } } });
    await create('MCPServer', 'chaos-new', serverSpec('chaos'), ready('chaos-new'));
    await clients.MCPServer.patchStatus('chaos-2', {
      status: { url: 'http://moved.example:9090' },
    });
    await env.compact();
    await eventually(() =>
      expect(registry.list().map((b) => `${b.id}=${b.baseUrl}`)).toEqual([
        'chaos-2=http://moved.example:9090',
        'chaos-3=http://chaos-3.default.svc.cluster.local:8080',
        'chaos-4=http://chaos-4.default.svc.cluster.local:8080',
        'chaos-new=http://chaos-new.default.svc.cluster.local:8080',
      ]),
    );
  });
});

/** A Secret-backed MCPServer of `group`: Secret `<name>-key`, auth config `<name>-auth`. */
async function secretServer(name: string, group: string, value: string): Promise<void> {
  await secret(`${name}-key`, { value });
  await clients.MCPExternalAuthConfig.create({
    apiVersion: API,
    kind: 'MCPExternalAuthConfig',
    metadata: { name: `${name}-auth` },
    spec: {
      type: 'headerInjection',
      headerInjection: {
        headerName: 'X-Key',
        valueSecretRef: { name: `${name}-key`, key: 'value' },
      },
    },
  } as KubeObject);
  await create(
    'MCPServer',
    name,
    serverSpec(group, { externalAuthConfigRef: { name: `${name}-auth` } }),
    ready(name),
  );
}
const headerValue = (registry: DynamicRegistry, name: string): unknown =>
  (registry.get(name)?.authConfig as { headerValue?: unknown } | undefined)?.headerValue;

describe('rotated Secrets, with the resync off', () => {
  it('serves a rotated value within the secret refresh period plus a margin', async () => {
    const { registry } = await startWatcher('rotation', {
      resyncPeriodMs: 0,
      secretRefreshPeriodMs: 1_000,
    });
    await secretServer('rotating', 'rotation', 'before');
    await eventually(() => expect(headerValue(registry, 'rotating')).toBe('before'));
    await clients.Secret.patch('rotating-key', {
      data: { value: Buffer.from('after').toString('base64') },
    });
    // The period jittered (1.1 s at most) plus one reconcile; the rest is margin for a busy machine.
    await eventually(() => expect(headerValue(registry, 'rotating')).toBe('after'), {
      timeoutMs: 1_100 + 10_000,
    });
  });
});

describe('a name clash across groups', () => {
  const entrySpec = (group: string) => ({
    remoteUrl: 'https://docs.example/mcp',
    transport: 'streamable-http',
    groupRef: { name: group },
  });

  it("serves our entry whichever is created first, and follows the other group's object when it is deleted, moves in and out", async () => {
    const { registry, watcher } = await startWatcher('clash');
    // Ours first, then another group's MCPServer of the same name.
    await create('MCPServerEntry', 'clash-a', entrySpec('clash'), { phase: 'Valid' });
    await eventually(() => expect(registry.get('clash-a')?.type).toBe('entry'));
    await create('MCPServer', 'clash-a', serverSpec('clash-other'), ready('clash-a'));
    await eventually(async () =>
      expect((await watcher.explain('clash-a')).decision).toMatchObject({
        otherGroups: [{ kind: 'MCPServer', group: 'clash-other' }],
      }),
    );
    // The other group's MCPServer first, then ours.
    await create('MCPServer', 'clash-b', serverSpec('clash-other'), ready('clash-b'));
    await create('MCPServerEntry', 'clash-b', entrySpec('clash'), { phase: 'Valid' });
    await eventually(() => expect(registry.get('clash-b')?.type).toBe('entry'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(registry.get('clash-a')?.type).toBe('entry');
    expect(registry.get('clash-b')?.type).toBe('entry');
    // The other group's MCPServer moves into our group: it takes the name by precedence.
    await clients.MCPServer.patch('clash-a', { spec: { groupRef: { name: 'clash' } } });
    await eventually(() =>
      expect(registry.get('clash-a')?.baseUrl).toBe(`http://clash-a.${NS}.svc.cluster.local:8080`),
    );
    // And out again; then deleted: ours stays served.
    await clients.MCPServer.patch('clash-a', { spec: { groupRef: { name: 'clash-other' } } });
    await eventually(() => expect(registry.get('clash-a')?.type).toBe('entry'));
    await clients.MCPServer.delete('clash-b');
    await eventually(async () =>
      expect((await watcher.explain('clash-b')).decision).toMatchObject({ otherGroups: [] }),
    );
    expect(registry.get('clash-b')?.type).toBe('entry');
  });
});

describe("the watcher's own permission (RBAC) withdrawn and restored, resync on", () => {
  const RBAC = { group: 'rbac.authorization.k8s.io', version: 'v1' };
  const ROLE: ResourceRef = { ...RBAC, plural: 'roles', kind: 'Role' };
  const BINDING: ResourceRef = { ...RBAC, plural: 'rolebindings', kind: 'RoleBinding' };
  const RULES = [
    {
      apiGroups: ['toolhive.stacklok.dev'],
      resources: ['mcpservers', 'mcpremoteproxies', 'mcpserverentries', 'mcpexternalauthconfigs'],
      verbs: ['get', 'list', 'watch'],
    },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  ];
  let roles: ResourceClient;

  /** The Role of the non-admin user: the watcher's, with or without `get` on Secrets. */
  async function grant(secrets: boolean): Promise<void> {
    const rules = secrets ? RULES : RULES.filter((rule) => !rule.resources.includes('secrets'));
    const current = await roles.get('watcher').catch(() => undefined);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', rules };
    if (current === undefined) {
      await roles.create({ ...role, metadata: { name: 'watcher' } } as KubeObject);
    } else {
      await roles.replace({
        ...role,
        metadata: { name: 'watcher', resourceVersion: current.metadata.resourceVersion },
      } as KubeObject);
    }
  }

  beforeAll(async () => {
    const admin = new KubeClient(env.kubeConfig);
    roles = new ResourceClient(admin, ROLE, NS);
    await grant(true);
    await new ResourceClient(admin, BINDING, NS).create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'watcher' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'watcher' },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: env.nonAdmin.username },
      ],
    } as KubeObject);
  });

  it('keeps what it serves while Secret reads get 403, is ready at its bound without what it cannot read, and converges once granted', async () => {
    await secretServer('creds-a', 'creds', 'kept-value');
    const asWatcher = { kubeConfig: env.nonAdmin.kubeConfig, resyncPeriodMs: 500 };
    const { registry, watcher } = await startWatcher('creds', asWatcher);
    await eventually(() => expect(headerValue(registry, 'creds-a')).toBe('kept-value'));
    const served = registry.snapshot();

    await grant(false);
    await eventually(() =>
      expect(watcher.failingReads()).toMatchObject([
        { name: 'creds-a', served: true, reason: 'forbidden' },
      ]),
    );
    // A watcher started now cannot read the Secret: ready at its bound, naming the backend.
    const late = await startWatcher('creds', { ...asWatcher, initialSyncTimeoutMs: 2_000 });
    await eventually(() =>
      expect(late.watcher.failingReads()).toMatchObject([{ name: 'creds-a', served: false }]),
    );
    expect(late.watcher.hasSynced()).toBe(false);
    expect(late.watcher.pendingInitialNames()).toEqual(['creds-a']);
    expect(await late.watcher.waitForRegistrySync({ timeoutMs: 30_000 })).toBe(true);
    expect(late.watcher.pendingInitialNames()).toEqual(['creds-a']);
    expect(late.registry.count()).toBe(0);
    // Resyncs every 0.5 s meanwhile: the first watcher still serves exactly what it did.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(registry.snapshot()).toEqual(served);

    await grant(true);
    await eventually(() => expect(watcher.failingReads()).toEqual([]));
    await eventually(() => expect(headerValue(late.registry, 'creds-a')).toBe('kept-value'));
    expect(late.watcher.pendingInitialNames()).toEqual([]);
    expect(registry.version).toBe(served.version);
  });
});
