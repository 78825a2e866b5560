import { connect, type Socket } from 'node:net';
import { type Sidecar, startSidecar } from '@vmcp/backend-watcher';
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import { eventually } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyServers } from '../src/fixtures.js';

let fake: FakeApiServer;
let sidecar: Sidecar;

beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  fake.load(readyServers(20));
  sidecar = await startSidecar({
    kubeConfig: fake.kubeConfig,
    namespace: 'default',
    groupRef: 'g',
    listen: '127.0.0.1:0',
  });
  expect(await sidecar.watcher.waitForRegistrySync({ timeoutMs: 20_000 })).toBe(true);
});
afterAll(async () => {
  await sidecar?.close();
  await fake?.close();
});

/** Sends raw bytes and returns the status line of the answer. */
function raw(request: string): Promise<string> {
  const { port, hostname } = new URL(sidecar.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', () => resolve(data.split('\r\n')[0] ?? 'reset'));
    socket.end(request);
  });
}

describe('the HTTP API under bad requests', () => {
  it('answers every bad request with 4xx while a good client keeps being served', async () => {
    const { port, hostname } = new URL(sidecar.url);
    // Many idle connections that never send a request.
    const idle: Socket[] = Array.from({ length: 300 }, () => connect(Number(port), hostname));
    let goodAnswers = 0;
    let goodFailures = 0;
    let stop = false;
    const good = (async () => {
      while (!stop) {
        const response = await fetch(`${sidecar.url}/v1/backends`).catch(() => undefined);
        if (
          response?.status === 200 &&
          ((await response.json()) as { backends: unknown[] }).backends.length === 20
        )
          goodAnswers++;
        else goodFailures++;
      }
    })();
    try {
      const bad = [
        '/v1/backends/UPPER',
        '/v1/backends/has_underscore',
        `/v1/backends/${'a'.repeat(300)}`,
        '/v1/backends/%ZZ',
        '/v1/backends/..%2F..%2Fetc%2Fpasswd',
        '/v1/backends?watch=-5',
        '/v1/backends?watch=1e9',
        '/v1/backends?watch=1&timeoutSeconds=99999',
        '/v1/backends?watch=1&timeoutSeconds=abc',
        '/v1/backends?limit=10',
        '/v1/backends?watch=1&watch=2',
        '/healthz?x=1',
        '/nope',
      ];
      for (const path of bad) {
        const response = await fetch(`${sidecar.url}${path}`);
        expect(response.status, path).toBeGreaterThanOrEqual(400);
        expect(response.status, path).toBeLessThan(500);
        expect((await response.json()) as object, path).toHaveProperty('error.message');
      }
      expect(
        (await fetch(`${sidecar.url}/v1/events`, { headers: { 'last-event-id': 'abc' } })).status,
      ).toBe(400);
      expect((await fetch(`${sidecar.url}/v1/backends`, { method: 'DELETE' })).status).toBe(405);
      expect(
        await raw(`GET /v1/backends HTTP/1.1\r\nHost: x\r\nX-Huge: ${'h'.repeat(100_000)}\r\n\r\n`),
      ).toMatch(/^HTTP\/1\.1 431/);
      expect(await raw('NONSENSE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
      expect(await raw(`GET /v1/backends HTTP/1.1\r\n${'X-Many: 1\r\n'.repeat(3000)}\r\n`)).toMatch(
        /^HTTP\/1\.1 4\d\d/,
      );
      // The bad requests can all be answered before the good client's sixth answer on a busy
      // machine: let it reach six while the idle connections still hang on.
      await eventually(() => goodAnswers > 5, { what: 'six good answers beside the abuse' });
    } finally {
      stop = true;
      await good;
      for (const socket of idle) socket.destroy();
    }
    expect(goodFailures).toBe(0);
    expect(goodAnswers).toBeGreaterThan(5);
    expect((await fetch(`${sidecar.url}/readyz`)).status).toBe(200);
  });
});
