import { Writable } from 'node:stream';
import { createLogger, type Sidecar, startSidecar } from '@vmcp/backend-watcher';
import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject } from '@vmcp/kube-runtime';
import { eventually } from '@vmcp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceClients } from '../src/chaos.js';

const API = 'toolhive.stacklok.dev/v1beta1';
const LONG_NAME = `long-${'n'.repeat(248)}`; // 253 characters: the limit of a resource name
let env: Env;
let sidecar: Sidecar;
let clients: ReturnType<typeof resourceClients>;
const logs: Record<string, unknown>[] = [];

const server = (name: string, spec: object = {}, annotations?: Record<string, string>) =>
  ({
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { image: 'example/mcp:1', transport: 'sse', groupRef: { name: 'g' }, ...spec },
  }) as KubeObject;

async function createServer(
  name: string,
  url: string,
  spec: object = {},
  annotations?: Record<string, string>,
) {
  await clients.MCPServer.create(server(name, spec, annotations));
  await clients.MCPServer.patchStatus(name, {
    status: { phase: 'Ready', ...(url ? { url } : {}) },
  });
}

beforeAll(async () => {
  env = await startEnv();
  clients = resourceClients(new KubeClient(env.kubeConfig), 'default');
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  sidecar = await startSidecar({
    kubeConfig: env.kubeConfig,
    namespace: 'default',
    groupRef: 'g',
    listen: '127.0.0.1:0',
    logger: createLogger('debug', sink),
  });
  expect(await sidecar.watcher.waitForRegistrySync({ timeoutMs: 60_000 })).toBe(true);
});
afterAll(async () => {
  await sidecar?.close();
  await env?.stop();
});

/** Objects the CRD schema lets through, each with the reason it must be skipped for. */
const corpus: { name: string; reason: string; apply: () => Promise<void> }[] = [
  { name: 'bad-url', reason: 'invalid-url', apply: () => createServer('bad-url', 'not a url') },
  {
    name: 'ftp-url',
    reason: 'invalid-url',
    apply: () => createServer('ftp-url', 'ftp://files.example.com/mcp'),
  },
  {
    name: 'spaces-url',
    reason: 'invalid-url',
    apply: () => createServer('spaces-url', 'http://exa mple.com'),
  },
  { name: 'empty-url', reason: 'no-url', apply: () => createServer('empty-url', '') },
  {
    name: 'missing-auth',
    reason: 'auth-unresolved',
    apply: () =>
      createServer('missing-auth', 'http://x:8080', {
        externalAuthConfigRef: { name: 'does-not-exist' },
      }),
  },
  {
    name: 'no-converter-auth',
    reason: 'auth-unresolved',
    apply: async () => {
      await clients.MCPExternalAuthConfig.create({
        apiVersion: API,
        kind: 'MCPExternalAuthConfig',
        metadata: { name: 'bearer' },
        spec: { type: 'bearerToken', bearerToken: { tokenSecretRef: { name: 'tok', key: 'k' } } },
      } as KubeObject);
      await createServer('no-converter-auth', 'http://x:8080', {
        externalAuthConfigRef: { name: 'bearer' },
      });
    },
  },
  {
    name: 'empty-secret',
    reason: 'auth-unresolved',
    apply: async () => {
      await clients.Secret.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'empty' },
        data: { k: '' },
      } as KubeObject);
      await clients.MCPExternalAuthConfig.create({
        apiVersion: API,
        kind: 'MCPExternalAuthConfig',
        metadata: { name: 'empty-value' },
        spec: {
          type: 'headerInjection',
          headerInjection: { headerName: 'X', valueSecretRef: { name: 'empty', key: 'k' } },
        },
      } as KubeObject);
      await createServer('empty-secret', 'http://x:8080', {
        externalAuthConfigRef: { name: 'empty-value' },
      });
    },
  },
  {
    name: 'missing-key',
    reason: 'auth-unresolved',
    apply: async () => {
      await clients.MCPExternalAuthConfig.create({
        apiVersion: API,
        kind: 'MCPExternalAuthConfig',
        metadata: { name: 'wrong-key' },
        spec: {
          type: 'headerInjection',
          headerInjection: { headerName: 'X', valueSecretRef: { name: 'empty', key: 'absent' } },
        },
      } as KubeObject);
      await createServer('missing-key', 'http://x:8080', {
        externalAuthConfigRef: { name: 'wrong-key' },
      });
    },
  },
  {
    name: 'missing-ca',
    reason: 'ca-bundle-unresolved',
    apply: async () => {
      await clients.MCPServerEntry.create({
        apiVersion: API,
        kind: 'MCPServerEntry',
        metadata: { name: 'missing-ca' },
        spec: {
          remoteUrl: 'https://x.example.com',
          transport: 'sse',
          groupRef: { name: 'g' },
          caBundleRef: { configMapRef: { name: 'nope', key: 'ca.crt' } },
        },
      } as KubeObject);
      await clients.MCPServerEntry.patchStatus('missing-ca', { status: { phase: 'Valid' } });
    },
  },
  {
    name: 'failed-entry',
    reason: 'entry-not-valid',
    apply: async () => {
      await clients.MCPServerEntry.create({
        apiVersion: API,
        kind: 'MCPServerEntry',
        metadata: { name: 'failed-entry' },
        spec: { remoteUrl: 'https://x.example.com', transport: 'sse', groupRef: { name: 'g' } },
      } as KubeObject);
      await clients.MCPServerEntry.patchStatus('failed-entry', { status: { phase: 'Failed' } });
    },
  },
];

/** Odd but valid objects: each must be served, correctly. */
const oddButValid: { name: string; apply: () => Promise<void>; check: () => void }[] = [
  {
    name: LONG_NAME,
    apply: () => createServer(LONG_NAME, 'http://long:8080'),
    check: () => expect(sidecar.registry.get(LONG_NAME)?.baseUrl).toBe('http://long:8080'),
  },
  {
    name: 'unicode',
    apply: () =>
      createServer(
        'unicode',
        'http://unicode:8080',
        {},
        { 'example.com/note': 'café ✓ 日本語 🚀' },
      ),
    check: () =>
      expect(sidecar.registry.get('unicode')?.metadata['example.com/note']).toBe(
        'café ✓ 日本語 🚀',
      ),
  },
  {
    name: 'huge-annotation',
    apply: () =>
      createServer(
        'huge-annotation',
        'http://huge:8080',
        {},
        { 'example.com/blob': 'z'.repeat(200_000) },
      ),
    check: () =>
      expect(sidecar.registry.get('huge-annotation')?.metadata['example.com/blob']).toHaveLength(
        200_000,
      ),
  },
  {
    name: 'junk-in-unvalidated-fields',
    apply: () =>
      createServer('junk-in-unvalidated-fields', 'http://junk:8080', {
        podTemplateSpec: { spec: { containers: 'not-a-list', weird: [1, { a: null }] } },
      }),
    check: () => expect(sidecar.registry.get('junk-in-unvalidated-fields')).toBeDefined(),
  },
];

describe('malformed input while valid backends keep flowing', () => {
  it('skips each bad object with a logged reason and a metric, and serves every valid one', async () => {
    let good = 0;
    for (const item of [...corpus, ...oddButValid]) {
      await item.apply();
      // A valid backend between each bad one: the flow never stops.
      await createServer(`good-${good}`, `http://good-${good}:8080`);
      good++;
    }
    await eventually(() =>
      Array.from({ length: good }, (_, i) => `good-${i}`).every((id) => sidecar.registry.get(id)),
    );
    await eventually(() =>
      oddButValid.every((item) => sidecar.registry.get(item.name) !== undefined),
    );
    for (const item of oddButValid) item.check();
    for (const item of corpus) {
      // (An object created before its status is first skipped for having no URL yet.)
      const matches = (l: Record<string, unknown>) =>
        l.msg === 'not a backend' && l.backend === item.name && l.reason === item.reason;
      await eventually(() => logs.some(matches));
      const line = logs.find(matches);
      expect(String(line?.detail)).not.toBe('');
      expect(sidecar.registry.get(item.name), item.name).toBeUndefined();
    }
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    for (const reason of new Set(corpus.map((c) => c.reason))) {
      expect(metrics).toMatch(
        new RegExp(`vmcp_backend_skipped_total\\{reason="${reason}"\\} [1-9]`),
      );
    }
    // The runtime's metrics are on the same registry.
    expect(metrics).toMatch(
      /controller_runtime_reconcile_total\{controller="vmcp-backends",result="success"\} [1-9]/,
    );
    expect(sidecar.registry.count()).toBe(good + oddButValid.length);
    expect(sidecar.watcher.isAlive()).toBe(true);
    // The long id is served by the HTTP API too.
    expect((await fetch(`${sidecar.url}/v1/backends/${LONG_NAME}`)).status).toBe(200);
  });
});
