import { type Env, startEnv } from '@vmcp/envtest';
import {
  isNotFound,
  KubeClient,
  type KubeObject,
  ResourceClient,
  type ResourceRef,
} from '@vmcp/kube-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DiscoveryReader,
  discover,
  type KubeObjectLike,
  type WorkloadKind,
} from '../src/index.js';
import {
  authConfig,
  configMap,
  GROUP,
  mcpServer,
  NS,
  PEM,
  remoteProxy,
  secret,
  serverEntry,
} from './fixtures.js';

const toolhive = (plural: string, kind: string): ResourceRef => ({
  group: 'toolhive.stacklok.dev',
  version: 'v1beta1',
  plural,
  kind,
});
const RESOURCES: Record<string, ResourceRef> = {
  MCPServer: toolhive('mcpservers', 'MCPServer'),
  MCPRemoteProxy: toolhive('mcpremoteproxies', 'MCPRemoteProxy'),
  MCPServerEntry: toolhive('mcpserverentries', 'MCPServerEntry'),
  MCPExternalAuthConfig: toolhive('mcpexternalauthconfigs', 'MCPExternalAuthConfig'),
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
  Secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
  Namespace: {
    group: '',
    version: 'v1',
    plural: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
  },
};

/** A reader that reads straight from the API server. */
function apiReader(client: KubeClient): DiscoveryReader {
  const get = async (kind: string, namespace: string, name: string) => {
    try {
      return (await new ResourceClient(client, RESOURCES[kind] as ResourceRef, namespace).get(
        name,
      )) as KubeObjectLike;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  return {
    getWorkload: (kind: WorkloadKind, namespace, name) => get(kind, namespace, name),
    listWorkloads: async (kind, namespace) =>
      (await new ResourceClient(client, RESOURCES[kind] as ResourceRef, namespace).list())
        .items as KubeObjectLike[],
    getExternalAuthConfig: (namespace, name) => get('MCPExternalAuthConfig', namespace, name),
    getConfigMap: (namespace, name) => get('ConfigMap', namespace, name),
    getSecret: (namespace, name) => get('Secret', namespace, name),
  };
}

describe('conversion of objects read back from a real API server', () => {
  let env: Env;
  let client: KubeClient;
  beforeAll(async () => {
    env = await startEnv();
    client = new KubeClient(env.kubeConfig);
    await new ResourceClient(client, RESOURCES.Namespace as ResourceRef).create({
      metadata: { name: NS },
    } as KubeObject);
  });
  afterAll(async () => {
    await env?.stop();
  });

  async function apply(object: KubeObjectLike): Promise<void> {
    const { status, ...rest } = object as KubeObjectLike & { status?: unknown };
    const resource = new ResourceClient(
      client,
      RESOURCES[object.kind as string] as ResourceRef,
      NS,
    );
    const created = await resource.create(rest as KubeObject);
    if (status !== undefined) {
      await resource.patchStatus(created.metadata.name as string, { status });
    }
  }

  it('gives the same backends as the fixtures promise, with server defaults applied', async () => {
    for (const object of [
      secret('te-secret', { secret: 'client-secret-value' }),
      authConfig('te', {
        type: 'tokenExchange',
        tokenExchange: {
          tokenUrl: 'https://idp/token',
          audience: 'backend',
          clientId: 'c',
          clientSecretRef: { name: 'te-secret', key: 'secret' },
        },
      }),
      configMap('ca', { 'ca.crt': PEM }),
      mcpServer('fetch', { spec: { externalAuthConfigRef: { name: 'te' } } }),
      mcpServer('no-url', { status: { url: undefined } }),
      remoteProxy('github', { spec: { transport: 'sse' } }),
      // The CRD requires configMapRef.key (1.20 enforces it), so the ca.crt default only matters
      // for objects that bypassed validation.
      serverEntry('remote', {
        spec: { caBundleRef: { configMapRef: { name: 'ca', key: 'ca.crt' } } },
      }),
      serverEntry('pending', { status: { phase: 'Pending' } }),
      mcpServer('elsewhere', { spec: { groupRef: { name: 'other' } } }),
    ]) {
      await apply(object);
    }
    const { backends, workloads } = await discover(apiReader(client), NS, GROUP);
    expect(backends.map((b) => b.id)).toEqual(['fetch', 'github', 'remote']);
    const fetch = backends.find((b) => b.id === 'fetch');
    expect(fetch).toMatchObject({
      baseUrl: `http://fetch.${NS}.svc.cluster.local:8080`,
      transportType: 'streamable-http',
      healthStatus: 'healthy',
      authConfigRef: 'te',
      authConfig: { type: 'token_exchange', clientSecret: 'client-secret-value' },
      metadata: { workload_type: 'mcp_server', workload_status: 'Ready', namespace: NS },
    });
    expect(backends.find((b) => b.id === 'github')).toMatchObject({
      transportType: 'sse',
      metadata: { remote_url: 'https://mcp.example.com/mcp' },
    });
    expect(backends.find((b) => b.id === 'remote')).toMatchObject({
      type: 'entry',
      caBundleData: PEM,
    });
    const reasons = Object.fromEntries(
      workloads
        .filter((w) => w.outcome?.kind === 'skip')
        .map((w) => [w.name, w.outcome?.kind === 'skip' ? w.outcome.reason : '']),
    );
    expect(reasons).toEqual({ 'no-url': 'no-url', pending: 'entry-not-valid' });
  });
});
