/**
 * Where the fake serves what newer kube-apiservers serve and 1.20 (envtest's) does not: these
 * cannot be in the shared behaviour suite.
 */

import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from '../src/index.js';

const API = 'toolhive.stacklok.dev/v1beta1';
let fake: FakeApiServer;
let client: KubeClient;

beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  client = new KubeClient(fake.kubeConfig);
});
afterAll(async () => {
  await client?.close();
  await fake?.close();
});

describe('fake API server, as newer kube-apiservers', () => {
  it.each([
    ['mcpservers', 'MCPServer', { image: 'example/mcp:1' }],
    ['mcpremoteproxies', 'MCPRemoteProxy', { remoteUrl: 'https://mcp.example.com/mcp' }],
    ['mcpserverentries', 'MCPServerEntry', { remoteUrl: 'https://mcp.example.com/mcp' }],
  ])('accepts %s with externalAuthConfigRef.name ""', async (plural, kind, spec) => {
    const resource = new ResourceClient(
      client,
      { group: 'toolhive.stacklok.dev', version: 'v1beta1', plural, kind },
      'default',
    );
    const created = await resource.create({
      apiVersion: API,
      kind,
      metadata: { name: `empty-ref-${plural}` },
      spec: {
        ...spec,
        transport: 'streamable-http',
        groupRef: { name: 'g' },
        externalAuthConfigRef: { name: '' },
      },
    } as KubeObject);
    expect((created.spec as { externalAuthConfigRef: unknown }).externalAuthConfigRef).toEqual({
      name: '',
    });
  });
});
