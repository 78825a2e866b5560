import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import type { KubeObject } from '@vmcp/kube-runtime';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sidecar, startSidecar } from '../src/sidecar.js';
import { rawExchange } from './support/api.js';

// startSidecar inside another program (here, vitest's worker): a request that reached a throw
// outside the server's promise chain would be an uncaught exception of the whole program, which
// vitest reports as an error of this file even where the test itself passed.

let fake: FakeApiServer;
let sidecar: Sidecar;
const processListeners = () =>
  ['uncaughtException', 'unhandledRejection'].map((event) => process.listenerCount(event));
let before: number[];

beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  fake.load([
    {
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPServer',
      metadata: { name: 'fetch' },
      spec: { image: 'example/mcp:1', transport: 'sse', groupRef: { name: 'g' } },
      status: { phase: 'Ready', url: 'http://fetch:8080' },
    } as KubeObject,
  ]);
  before = processListeners();
  sidecar = await startSidecar({
    kubeConfig: fake.kubeConfig,
    namespace: 'default',
    groupRef: 'g',
    listen: '127.0.0.1:0',
  });
  expect(await sidecar.watcher.waitForRegistrySync({ timeoutMs: 30_000 })).toBe(true);
});
afterAll(async () => {
  await sidecar?.close();
  await fake?.close();
});

describe('startSidecar embedded in another program', () => {
  it('installs no process-wide handler', () => {
    expect(processListeners()).toEqual(before);
  });

  it.each([
    'GET //a:b/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET //a:99999/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET //[::1/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET //%zz/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://a:b/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET https://a:x/v1/backends HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET //a:b/ HTTP/1.1\r\nHost: x\r\n\r\n',
  ])('answers %j and goes on serving the embedding program', async (bytes) => {
    const reply = await rawExchange(Number(new URL(sidecar.url).port), bytes);
    expect(reply.statuses.length).toBeGreaterThan(0);
    for (const status of reply.statuses) expect(status).toBeLessThan(500);
    const list = await fetch(`${sidecar.url}/v1/backends`);
    expect(((await list.json()) as { backends: unknown[] }).backends).toHaveLength(1);
  });

  it('counts no unexpected error for any of them', async () => {
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toContain('# TYPE vmcp_http_request_errors_total counter');
    expect(metrics).not.toMatch(/^vmcp_http_request_errors_total\{[^}]*\} [1-9]/m);
  });
});
