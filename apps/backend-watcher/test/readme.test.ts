import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import { runExample } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const API = 'toolhive.stacklok.dev/v1beta1';
const server = (name: string) => ({
  apiVersion: API,
  kind: 'MCPServer',
  metadata: { name, namespace: 'tools' },
  spec: { image: 'example/mcp:1', transport: 'streamable-http', groupRef: { name: 'engineering' } },
  status: { phase: 'Ready', url: `http://${name}.tools:8080` },
});

let fake: FakeApiServer;
beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  fake.load([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tools' } },
    { apiVersion: API, kind: 'MCPGroup', metadata: { name: 'engineering', namespace: 'tools' } },
    server('fetch'),
    server('github'),
  ]);
});
afterAll(async () => {
  await fake?.close();
});

describe('the README library example, run', () => {
  it('serves the backends of the group from the kubeconfig of $KUBECONFIG, then closes', async () => {
    const example = runExample(new URL('../examples/library.ts', import.meta.url), {
      KUBECONFIG: fake.kubeconfigPath,
    });
    expect(await example.exited).toEqual({ code: 0, signal: null });
    expect(example.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+ \[ 'fetch', 'github' \]\n$/);
  });
});
