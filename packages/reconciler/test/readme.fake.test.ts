import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import type { KubeObject } from '@vmcp/kube-runtime';
import { runExample } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const API = 'toolhive.stacklok.dev/v1beta1';
const server = (name: string): KubeObject => ({
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
    // Another group's: not a backend of this one.
    {
      ...server('wiki'),
      spec: { image: 'example/mcp:1', transport: 'sse', groupRef: { name: 'x' } },
    },
  ]);
});
afterAll(async () => {
  await fake?.close();
});

describe('the README quick start, run', () => {
  it('loads $KUBECONFIG, passes the registry readiness gate with every backend in, and stops on SIGTERM', async () => {
    const example = runExample(new URL('../examples/quick-start.ts', import.meta.url), {
      KUBECONFIG: fake.kubeconfigPath,
    });
    try {
      // The gate opens with both backends of the group in the registry, never with fewer.
      await example.waitForOutput(/^\[.*\]$/m);
      expect(example.stdout).toBe('2 backends\n[]\n');
      example.kill('SIGTERM');
      expect(await example.exited).toEqual({ code: 0, signal: null });
    } finally {
      example.kill();
    }
  });
});
