import type { KubeObject } from '@vmcp/kube-runtime';
import { readonlyStoreOf } from '@vmcp/kube-runtime/testing';
import { describe, expect, it } from 'vitest';
import {
  authConfigToRequests,
  CA_BUNDLE_INDEX,
  caBundleIndex,
  configMapToRequests,
  workloadToRequests,
} from '../src/mappers.js';

const NS = 'tools';
const workload = (kind: string, name: string, spec: Record<string, unknown>): KubeObject =>
  ({
    apiVersion: 'toolhive.stacklok.dev/v1beta1',
    kind,
    metadata: { name, namespace: NS },
    spec,
  }) as KubeObject;
const store = (...objects: KubeObject[]) =>
  readonlyStoreOf(objects, { indexes: { [CA_BUNDLE_INDEX]: caBundleIndex } });

describe('workloadToRequests', () => {
  const map = workloadToRequests('MCPServer', 'eng', NS);

  it('maps a workload of the group to itself', () => {
    expect(map(workload('MCPServer', 'a', { groupRef: { name: 'eng' } }))).toEqual([
      { namespace: NS, name: 'a' },
    ]);
  });

  it('accepts the legacy bare-string groupRef', () => {
    expect(map(workload('MCPServer', 'a', { groupRef: 'eng' }))).toEqual([
      { namespace: NS, name: 'a' },
    ]);
  });

  it('maps a workload of another group, or of none, to nothing', () => {
    expect(map(workload('MCPServer', 'a', { groupRef: { name: 'other' } }))).toEqual([]);
    expect(map(workload('MCPServer', 'a', {}))).toEqual([]);
  });

  it('never throws on a malformed object', () => {
    for (const bad of [
      { metadata: {} },
      { metadata: { name: 'x' }, spec: 'nonsense' },
      { metadata: { name: 'x' }, spec: { groupRef: 42 } },
    ]) {
      expect(map(bad as KubeObject)).toEqual([]);
    }
  });
});

describe('workloadToRequests with the workload caches', () => {
  const stores = {
    MCPServer: store(workload('MCPServer', 'docs', { groupRef: { name: 'sales' } })),
    MCPRemoteProxy: store(),
    MCPServerEntry: store(workload('MCPServerEntry', 'docs', { groupRef: { name: 'eng' } })),
  };
  const map = workloadToRequests('MCPServer', 'eng', NS, stores);

  it("maps another group's workload to its name when a workload of the group has it", () => {
    expect(map(workload('MCPServer', 'docs', { groupRef: { name: 'sales' } }))).toEqual([
      { namespace: NS, name: 'docs' },
    ]);
  });

  it("maps another group's workload to nothing when no workload of the group has its name", () => {
    expect(map(workload('MCPServer', 'wiki', { groupRef: { name: 'sales' } }))).toEqual([]);
    const onlyOthers = workloadToRequests('MCPServerEntry', 'eng', NS, {
      ...stores,
      MCPServerEntry: store(workload('MCPServerEntry', 'docs', { groupRef: { name: 'ops' } })),
    });
    expect(onlyOthers(workload('MCPServerEntry', 'docs', { groupRef: { name: 'ops' } }))).toEqual(
      [],
    );
  });

  it('still maps a workload of the group to itself, and never throws', () => {
    expect(map(workload('MCPServer', 'new', { groupRef: { name: 'eng' } }))).toEqual([
      { namespace: NS, name: 'new' },
    ]);
    expect(map({ metadata: { name: 'docs' }, spec: { groupRef: 42 } } as KubeObject)).toEqual([
      { namespace: NS, name: 'docs' },
    ]);
    expect(map({ metadata: {} } as KubeObject)).toEqual([]);
  });
});

describe('authConfigToRequests', () => {
  const stores = {
    MCPServer: store(
      workload('MCPServer', 's1', {
        groupRef: { name: 'eng' },
        externalAuthConfigRef: { name: 'auth' },
      }),
      workload('MCPServer', 's2', {
        groupRef: { name: 'other' },
        externalAuthConfigRef: { name: 'auth' },
      }),
      workload('MCPServer', 's3', {
        groupRef: { name: 'eng' },
        externalAuthConfigRef: { name: 'different' },
      }),
      workload('MCPServer', 's4', { groupRef: { name: 'eng' } }),
    ),
    MCPRemoteProxy: store(
      workload('MCPRemoteProxy', 'p1', {
        groupRef: { name: 'eng' },
        externalAuthConfigRef: { name: 'auth' },
      }),
    ),
    MCPServerEntry: store(
      workload('MCPServerEntry', 'e1', {
        groupRef: { name: 'eng' },
        externalAuthConfigRef: { name: 'auth' },
      }),
      workload('MCPServerEntry', 'e2', {
        groupRef: { name: 'eng' },
        externalAuthConfigRef: 'not-an-object',
      }),
    ),
  };
  const map = authConfigToRequests(stores, 'eng', NS);

  it('maps an auth config to every workload of the group, of any kind, that references it', () => {
    const config = {
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPExternalAuthConfig',
      metadata: { name: 'auth', namespace: NS },
    } as KubeObject;
    expect(
      map(config)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['e1', 'p1', 's1']);
  });

  it('maps an unreferenced or nameless config to nothing', () => {
    expect(map({ metadata: { name: 'unused', namespace: NS } } as KubeObject)).toEqual([]);
    expect(map({ metadata: {} } as KubeObject)).toEqual([]);
  });
});

describe('configMapToRequests', () => {
  const entries = store(
    workload('MCPServerEntry', 'e1', {
      groupRef: { name: 'eng' },
      caBundleRef: { configMapRef: { name: 'ca', key: 'ca.crt' } },
    }),
    workload('MCPServerEntry', 'e2', {
      groupRef: { name: 'other' },
      caBundleRef: { configMapRef: { name: 'ca' } },
    }),
    workload('MCPServerEntry', 'e3', {
      groupRef: { name: 'eng' },
      caBundleRef: { configMapRef: { name: 'other-ca' } },
    }),
    workload('MCPServerEntry', 'e4', { groupRef: { name: 'eng' }, caBundleRef: 'broken' }),
  );
  const map = configMapToRequests(entries, 'eng', NS);

  it('maps a ConfigMap, through the field index, to the entries of the group whose CA it holds', () => {
    expect(map({ metadata: { name: 'ca', namespace: NS } } as KubeObject)).toEqual([
      { namespace: NS, name: 'e1' },
    ]);
    expect(map({ metadata: { name: 'other-ca', namespace: NS } } as KubeObject)).toEqual([
      { namespace: NS, name: 'e3' },
    ]);
  });

  it('maps an unrelated ConfigMap to nothing, and a malformed entry is simply not indexed', () => {
    expect(map({ metadata: { name: 'kube-root-ca.crt', namespace: NS } } as KubeObject)).toEqual(
      [],
    );
    expect(caBundleIndex(workload('MCPServerEntry', 'e4', { caBundleRef: 'broken' }))).toEqual([]);
  });
});
