import { createObjectReader, type DiscoveryReader, type KubeObjectLike } from '@vmcp/discoverer';
import { createDynamicRegistry } from '@vmcp/registry';
import { describe, expect, it } from 'vitest';
import { BackendReconciler } from '../src/index.js';

const NS = 'tools';
const GROUP = 'engineering';
const API = 'toolhive.stacklok.dev/v1beta1';

const server = (name: string, group = GROUP): KubeObjectLike => ({
  apiVersion: API,
  kind: 'MCPServer',
  metadata: { name, namespace: NS },
  spec: { groupRef: { name: group }, externalAuthConfigRef: { name: 'auth' } },
  status: { phase: 'Ready', url: `http://${name}:8080` },
});
const AUTH: KubeObjectLike[] = [
  {
    apiVersion: API,
    kind: 'MCPExternalAuthConfig',
    metadata: { name: 'auth', namespace: NS },
    spec: {
      type: 'headerInjection',
      headerInjection: { headerName: 'X-Key', valueSecretRef: { name: 'key', key: 'value' } },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'key', namespace: NS },
    data: { value: Buffer.from('v').toString('base64') },
  },
];

/** A reader over `objects` that counts its Secret reads. */
function countingReader(objects: KubeObjectLike[]): DiscoveryReader & { secretReads: number } {
  const inner = createObjectReader(objects);
  const reader = {
    ...inner,
    secretReads: 0,
    getSecret: (namespace: string, name: string) => {
      reader.secretReads++;
      return inner.getSecret(namespace, name);
    },
  };
  return reader;
}

function setup(objects: KubeObjectLike[], now = { value: 1_000 }) {
  const reader = countingReader(objects);
  const registry = createDynamicRegistry();
  const reconciler = new BackendReconciler({
    namespace: NS,
    group: GROUP,
    registry,
    reader,
    now: () => now.value,
  });
  return { reader, registry, reconciler, now };
}
const request = (name: string) => ({ namespace: NS, name });

describe('BackendReconciler.explain', () => {
  it('reads each object once, though it decides and then converts', async () => {
    const { reader, reconciler } = setup([server('s'), ...AUTH]);
    const explained = await reconciler.explain('s');
    expect(explained.outcome).toMatchObject({ kind: 'backend', backend: { id: 's' } });
    expect(reader.secretReads).toBe(1);
  });

  it('reads through the reader it is given instead of its own', async () => {
    const { reader, reconciler } = setup([server('s'), ...AUTH]);
    const other = countingReader([server('s'), ...AUTH]);
    await reconciler.explain('s', { reader: other });
    expect([reader.secretReads, other.secretReads]).toEqual([0, 1]);
  });
});

describe('BackendReconciler.lastDecision', () => {
  it('keeps the last decision of a name of the group, with when it was made', async () => {
    const { reconciler, now } = setup([server('s'), ...AUTH]);
    expect(reconciler.lastDecision('s')).toBeUndefined();
    await reconciler.reconcile(request('s'));
    expect(reconciler.lastDecision('s')).toEqual({
      decision: {
        action: 'upsert',
        kind: 'MCPServer',
        changed: true,
        shadowed: [],
        otherGroups: [],
      },
      decidedAt: 1_000,
    });
    now.value = 2_000;
    await reconciler.reconcile(request('s'));
    expect(reconciler.lastDecision('s')?.decidedAt).toBe(2_000);
  });

  it('forgets a name that is gone or in another group: the caches say so at no cost', async () => {
    const { reconciler } = setup([server('moved', 'sales'), ...AUTH]);
    await reconciler.reconcile(request('moved'));
    await reconciler.reconcile(request('ghost'));
    expect(reconciler.lastDecision('moved')).toBeUndefined();
    expect(reconciler.lastDecision('ghost')).toBeUndefined();
  });

  it('keeps a skip and a failed read, which only a reconcile can tell', async () => {
    const objects = [server('s'), server('t'), ...AUTH];
    const { reader, reconciler } = setup(objects);
    (objects[0]?.status as { url?: string }).url = undefined;
    reader.getSecret = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    await reconciler.reconcile(request('s'));
    await reconciler.reconcile(request('t'));
    expect(reconciler.lastDecision('s')?.decision).toMatchObject({
      action: 'remove',
      reason: 'skipped',
    });
    expect(reconciler.lastDecision('t')?.decision).toMatchObject({ action: 'keep-and-retry' });
  });
});
