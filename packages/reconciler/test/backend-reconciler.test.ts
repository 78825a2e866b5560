import { createObjectReader, type KubeObjectLike } from '@vmcp/discoverer';
import { createDynamicRegistry } from '@vmcp/registry';
import { describe, expect, it } from 'vitest';
import { BackendReconciler, type Decision } from '../src/index.js';

const NS = 'tools';
const GROUP = 'engineering';
const API = 'toolhive.stacklok.dev/v1beta1';
const server = (name: string, spec: object = {}, status: object = {}): KubeObjectLike => ({
  apiVersion: API,
  kind: 'MCPServer',
  metadata: { name, namespace: NS },
  spec: { transport: 'streamable-http', groupRef: { name: GROUP }, ...spec },
  status: { phase: 'Ready', url: `http://${name}:8080`, ...status },
});
const proxy = (name: string, spec: object = {}): KubeObjectLike => ({
  apiVersion: API,
  kind: 'MCPRemoteProxy',
  metadata: { name, namespace: NS },
  spec: { remoteUrl: 'https://remote', groupRef: { name: GROUP }, ...spec },
  status: { phase: 'Ready', url: `http://${name}-proxy:8080` },
});
const entry = (name: string, spec: object = {}): KubeObjectLike => ({
  apiVersion: API,
  kind: 'MCPServerEntry',
  metadata: { name, namespace: NS },
  spec: { remoteUrl: 'https://entry.example/mcp', groupRef: { name: GROUP }, ...spec },
  status: { phase: 'Valid' },
});

/** One name taken by all three kinds, and the decision for it: upstream's precedence. */
const SHARED_NAME = [entry('dup'), proxy('dup'), server('dup')];
const SERVER_WINS = {
  action: 'upsert',
  kind: 'MCPServer',
  shadowed: ['MCPRemoteProxy', 'MCPServerEntry'],
  otherGroups: [],
};

function setup(objects: KubeObjectLike[]) {
  const registry = createDynamicRegistry();
  const decisions: Decision[] = [];
  const reader = createObjectReader(objects);
  const reconciler = new BackendReconciler({
    namespace: NS,
    group: GROUP,
    registry,
    reader,
    observer: { decided: (_name, decision) => decisions.push(decision) },
  });
  return { registry, reconciler, decisions, reader };
}
const request = (name: string) => ({ namespace: NS, name });

describe('BackendReconciler', () => {
  it('upserts an MCPServer of the group with its fields', async () => {
    const { registry, reconciler } = setup([server('fetch')]);
    await reconciler.reconcile(request('fetch'));
    expect(registry.get('fetch')).toMatchObject({
      id: 'fetch',
      baseUrl: 'http://fetch:8080',
      healthStatus: 'healthy',
    });
    expect(registry.version).toBe(1);
  });

  it('upserts an MCPRemoteProxy and an MCPServerEntry', async () => {
    const { registry, reconciler } = setup([proxy('gh'), entry('remote')]);
    await reconciler.reconcile(request('gh'));
    await reconciler.reconcile(request('remote'));
    expect(registry.list().map((b) => `${b.id}:${b.type ?? ''}`)).toEqual(['gh:', 'remote:entry']);
  });

  it('removes a backend whose workload is gone', async () => {
    const { registry, reconciler } = setup([]);
    registry.upsert({
      id: 'gone',
      name: 'gone',
      baseUrl: 'http://x',
      transportType: 'sse',
      healthStatus: 'healthy',
      metadata: {},
    });
    await reconciler.reconcile(request('gone'));
    expect(registry.get('gone')).toBeUndefined();
  });

  it.each([
    ['MCPServer', server('x', { groupRef: { name: 'sales' } })],
    ['MCPRemoteProxy', proxy('x', { groupRef: { name: 'sales' } })],
    ['MCPServerEntry', entry('x', { groupRef: { name: 'sales' } })],
  ])('removes an %s of another group', async (_kind, object) => {
    const { registry, reconciler, decisions } = setup([object]);
    registry.upsert({
      id: 'x',
      name: 'x',
      baseUrl: 'http://x',
      transportType: 'sse',
      healthStatus: 'healthy',
      metadata: {},
    });
    await reconciler.reconcile(request('x'));
    expect(registry.get('x')).toBeUndefined();
    expect(decisions[0]).toMatchObject({ action: 'remove', reason: 'other-group', group: 'sales' });
  });

  it('removes a workload whose auth cannot be resolved, without retrying', async () => {
    const { registry, reconciler, decisions } = setup([
      server('s', { externalAuthConfigRef: { name: 'missing' } }),
    ]);
    await reconciler.reconcile(request('s'));
    expect(registry.get('s')).toBeUndefined();
    expect(decisions[0]).toMatchObject({
      action: 'remove',
      reason: 'skipped',
      outcome: { reason: 'auth-unresolved' },
    });
  });

  it('removes a workload without a URL yet', async () => {
    const { registry, reconciler } = setup([server('s', {}, { url: '' })]);
    await reconciler.reconcile(request('s'));
    expect(registry.count()).toBe(0);
  });

  it('removes and throws (to retry) when a lookup fails for a definitive reason', async () => {
    const objects = [
      server('s', { externalAuthConfigRef: { name: 'auth' } }),
      {
        apiVersion: API,
        kind: 'MCPExternalAuthConfig',
        metadata: { name: 'auth', namespace: NS },
        spec: {
          type: 'headerInjection',
          headerInjection: { headerName: 'X', valueSecretRef: { name: 's', key: 'k' } },
        },
      },
    ];
    const { registry, reconciler, reader } = setup(objects);
    reader.getSecret = async () => {
      throw Object.assign(new Error('invalid'), { code: 400, reason: 'BadRequest' });
    };
    registry.upsert({
      id: 's',
      name: 's',
      baseUrl: 'http://s',
      transportType: 'sse',
      healthStatus: 'healthy',
      metadata: {},
    });
    await expect(reconciler.reconcile(request('s'))).rejects.toThrow(/could not be read/);
    expect(registry.get('s')).toBeUndefined();
  });

  it('keeps upstream precedence when kinds share a name and reports the shadowed ones', async () => {
    const { registry, reconciler, decisions } = setup(SHARED_NAME);
    await reconciler.reconcile(request('dup'));
    expect(registry.get('dup')?.baseUrl).toBe('http://dup:8080');
    expect(decisions[0]).toMatchObject(SERVER_WINS);
  });

  it('reads workloads from cachedWorkload when given, with the same precedence', async () => {
    const objects = SHARED_NAME;
    const registry = createDynamicRegistry();
    const decisions: Decision[] = [];
    const reader = {
      ...createObjectReader([]),
      getWorkload: async () => {
        throw new Error('getWorkload must not be called when cachedWorkload is given');
      },
    };
    const reconciler = new BackendReconciler({
      namespace: NS,
      group: GROUP,
      registry,
      reader,
      cachedWorkload: (kind, namespace, name) =>
        objects.find(
          (o) =>
            o.kind === kind && o.metadata?.namespace === namespace && o.metadata?.name === name,
        ),
      observer: { decided: (_name, decision) => decisions.push(decision) },
    });
    await reconciler.reconcile(request('dup'));
    expect(registry.get('dup')?.baseUrl).toBe('http://dup:8080');
    expect(decisions[0]).toMatchObject(SERVER_WINS);
    await reconciler.reconcile(request('gone'));
    expect(decisions[1]).toEqual({ action: 'remove', reason: 'not-found' });
  });

  it('moves the version only when the backend changed', async () => {
    const { registry, reconciler } = setup([server('s')]);
    await reconciler.reconcile(request('s'));
    await reconciler.reconcile(request('s'));
    await reconciler.reconcile(request('s'));
    expect(registry.version).toBe(1);
  });

  it('explains without changing the registry', async () => {
    const { registry, reconciler } = setup([
      server('s'),
      server('other', { groupRef: { name: 'sales' } }),
    ]);
    const explained = await reconciler.explain('s');
    expect(explained.decision).toMatchObject({ action: 'upsert', kind: 'MCPServer' });
    expect(explained.outcome).toMatchObject({ kind: 'backend', backend: { id: 's' } });
    expect((await reconciler.explain('other')).decision).toMatchObject({ reason: 'other-group' });
    expect((await reconciler.explain('ghost')).decision).toEqual({
      action: 'remove',
      reason: 'not-found',
    });
    expect(registry.version).toBe(0);
  });
});

describe('a name shared with workloads of another group', () => {
  const other = { groupRef: { name: 'sales' } };
  const ours = (decisions: Decision[]) => decisions.at(-1);

  it.each([
    ['MCPServer', [entry('docs'), server('docs', other)]],
    ['MCPRemoteProxy', [entry('docs'), proxy('docs', other)]],
  ])(
    "does not hide our MCPServerEntry behind another group's %s (a departure from upstream)",
    async (kind, objects) => {
      const { registry, reconciler, decisions } = setup(objects);
      await reconciler.reconcile(request('docs'));
      expect(registry.get('docs')).toMatchObject({ type: 'entry' });
      expect(ours(decisions)).toEqual({
        action: 'upsert',
        kind: 'MCPServerEntry',
        changed: true,
        shadowed: [],
        otherGroups: [{ kind, group: 'sales' }],
      });
    },
  );

  it('applies the precedence only among the workloads of the group', async () => {
    const { registry, reconciler, decisions } = setup([
      entry('docs'),
      proxy('docs'),
      server('docs', other),
    ]);
    await reconciler.reconcile(request('docs'));
    expect(registry.get('docs')?.baseUrl).toBe('http://docs-proxy:8080');
    expect(ours(decisions)).toMatchObject({
      kind: 'MCPRemoteProxy',
      shadowed: ['MCPServerEntry'],
      otherGroups: [{ kind: 'MCPServer', group: 'sales' }],
    });
  });

  it('reports a workload of no group (or a malformed one) as of another group', async () => {
    const { registry, reconciler, decisions } = setup([
      entry('docs'),
      server('docs', { groupRef: undefined }),
    ]);
    await reconciler.reconcile(request('docs'));
    expect(registry.get('docs')).toBeDefined();
    expect(ours(decisions)).toMatchObject({
      otherGroups: [{ kind: 'MCPServer', group: undefined }],
    });
  });

  it('removes the name when only other groups have it, naming the first', async () => {
    const { registry, reconciler, decisions } = setup([
      entry('docs', { groupRef: { name: 'ops' } }),
      server('docs', other),
    ]);
    registry.upsert({
      id: 'docs',
      name: 'docs',
      baseUrl: 'http://x',
      transportType: 'sse',
      healthStatus: 'healthy',
      metadata: {},
    });
    await reconciler.reconcile(request('docs'));
    expect(registry.get('docs')).toBeUndefined();
    expect(ours(decisions)).toEqual({
      action: 'remove',
      reason: 'other-group',
      kind: 'MCPServer',
      group: 'sales',
      shadowed: [],
      otherGroups: [
        { kind: 'MCPServer', group: 'sales' },
        { kind: 'MCPServerEntry', group: 'ops' },
      ],
    });
  });

  it("serves ours again when the other group's workload is deleted, and switches when one moves into the group", async () => {
    const objects = [entry('docs'), server('docs', other)];
    const { registry, reconciler, reader } = setup(objects);
    await reconciler.reconcile(request('docs'));
    expect(registry.get('docs')?.type).toBe('entry');
    // Moved into our group: it takes the name by precedence.
    const getWorkload = reader.getWorkload;
    reader.getWorkload = async (kind, namespace, name) =>
      kind === 'MCPServer' ? server('docs') : getWorkload(kind, namespace, name);
    await reconciler.reconcile(request('docs'));
    expect(registry.get('docs')?.baseUrl).toBe('http://docs:8080');
    // Deleted: ours again.
    reader.getWorkload = async (kind, namespace, name) =>
      kind === 'MCPServer' ? undefined : getWorkload(kind, namespace, name);
    await reconciler.reconcile(request('docs'));
    expect(registry.get('docs')?.type).toBe('entry');
  });

  it("explains the other group's workload", async () => {
    const { reconciler } = setup([entry('docs'), server('docs', other)]);
    expect((await reconciler.explain('docs')).decision).toMatchObject({
      action: 'upsert',
      kind: 'MCPServerEntry',
      otherGroups: [{ kind: 'MCPServer', group: 'sales' }],
    });
  });
});
