/**
 * The client's degraded paths (issue 23, points 7 and 8), each through the public API against
 * the sidecar's HTTP API in process, a proxy that misbehaves, or a server that does: every test
 * here fails on the client before these fixes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { eventually } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';
import { connectRegistry, type RegistryClient } from '../src/index.js';
import { LONG_POLL_TIMEOUT_SECONDS } from '../src/protocol.js';
import { backend } from './support/api.js';
import {
  caughtUp,
  client,
  recordingLogger,
  scriptedServer,
  settled,
  sidecar,
  stillHeld,
} from './support/harness.js';
import { FaultProxy } from './support/proxy.js';

/** The delays of the retries a recording logger saw, in order. */
const retryDelays = (logger: ReturnType<typeof recordingLogger>): number[] =>
  logger.lines
    .filter((line) => line.message === 'registry client retrying')
    .map((line) => (line.fields as { delayMs: number }).delayMs);

describe('a stream that dies right after its first heartbeat', () => {
  it('backs off further each time and falls back to the long-poll after three', async () => {
    const clock = new FakeClock();
    const api = await sidecar({ initialVersion: 20 });
    api.registry.upsert(backend('a'));
    await using proxy = await FaultProxy.start(api.url);
    proxy.endStreamsAfterHeartbeat = true;
    const logger = recordingLogger();
    const registry = client({ url: proxy.url, clock, random: () => 0.5, logger });
    for (const [i, delay] of [200, 400, 800].entries()) {
      await eventually(() => retryDelays(logger).length === i + 1);
      expect(retryDelays(logger)[i]).toBe(delay);
      expect(registry.status().phase).toBe('backingOff');
      clock.advance(delay);
    }
    // Three streams in a row that could not be held: the long-poll, not a loop every 200 ms.
    await registry.ready;
    expect(registry.status()).toMatchObject({
      transport: 'long-poll',
      reconnects: { ended: 3 },
    });
    expect(registry.list()).toEqual([backend('a')]);
    api.registry.upsert(backend('b'));
    await caughtUp(registry, api);
    expect(registry.list()).toEqual([backend('a'), backend('b')]);
  });
});

describe('the long-poll timeout', () => {
  it.each([0, 301, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses longPollTimeoutSeconds %s at construction, as the sidecar would',
    (value) => {
      expect(() =>
        connectRegistry({ url: 'http://127.0.0.1:9', longPollTimeoutSeconds: value }),
      ).toThrow(
        new RangeError(
          `connectRegistry: longPollTimeoutSeconds ${value} is not an integer from 1 to 300 (what the sidecar takes)`,
        ),
      );
    },
  );

  it.each([1, 300])('accepts longPollTimeoutSeconds %s', async (value) => {
    await connectRegistry({ url: 'http://127.0.0.1:9', longPollTimeoutSeconds: value }).close();
  });

  it('has the bounds the sidecar enforces and its OpenAPI document states', async () => {
    const api = await sidecar({ initialVersion: 5 });
    api.registry.upsert(backend('a'));
    const poll = (seconds: number) =>
      fetch(`${api.url}/v1/backends?watch=5&timeoutSeconds=${seconds}`).then((r) => r.status);
    const { min, max } = LONG_POLL_TIMEOUT_SECONDS;
    expect(await poll(min)).toBe(200);
    expect(await poll(max)).toBe(200);
    expect(await poll(min - 1)).toBe(400);
    expect(await poll(max + 1)).toBe(400);
    const app = dirname(
      createRequire(import.meta.url).resolve('@vmcp/backend-watcher/package.json'),
    );
    const openapi = readFileSync(join(app, 'openapi.yaml'), 'utf8');
    const parameter = openapi.slice(openapi.indexOf('name: timeoutSeconds'));
    expect(parameter).toMatch(
      new RegExp(
        `^[^]*?schema: \\{ type: integer, minimum: ${min}, maximum: ${max}, default: ${LONG_POLL_TIMEOUT_SECONDS.default} \\}`,
      ),
    );
  });
});

describe('event streams refused', () => {
  it.each([404, 405])(
    'in auto mode, %s on /v1/events falls back to the long-poll and follows',
    async (status) => {
      const api = await sidecar({ initialVersion: 30 });
      api.registry.upsert(backend('a'));
      await using proxy = await FaultProxy.start(api.url);
      proxy.refuseStreams = status;
      const registry = client({ url: proxy.url });
      await registry.ready;
      expect(registry.status()).toMatchObject({ transport: 'long-poll', error: undefined });
      api.registry.upsert(backend('b'));
      await caughtUp(registry, api);
      expect(registry.list()).toEqual([backend('a'), backend('b')]);
    },
  );

  it('fails for good on 403 in auto mode, and on 404 with the events transport', async () => {
    const api = await sidecar();
    await using proxy = await FaultProxy.start(api.url);
    proxy.refuseStreams = 403;
    const forbidden = client({ url: proxy.url });
    await expect(forbidden.ready).rejects.toMatchObject({ reason: 'Rejected', status: 403 });
    proxy.refuseStreams = 404;
    const eventsOnly = client({ url: proxy.url, transport: 'events' });
    await expect(eventsOnly.ready).rejects.toMatchObject({ reason: 'Rejected', status: 404 });
    expect(eventsOnly.status().phase).toBe('failed');
  });
});

describe('waitForSync while unsynced', () => {
  it('keeps nothing of a wait that ended: no reaction per call', async () => {
    const api = await sidecar();
    api.state.ready = false;
    const clock = new FakeClock();
    const registry = client({ url: api.url, clock });
    // Each wait in a function of its own: no frame of this test keeps its signal.
    const wait = async (): Promise<WeakRef<AbortSignal>> => {
      const controller = new AbortController();
      const waiting = registry.waitForSync({ signal: controller.signal, timeoutMs: 5 });
      clock.advance(5);
      expect(await waiting).toBe(false);
      return new WeakRef(controller.signal);
    };
    const signals: WeakRef<AbortSignal>[] = [];
    for (let i = 0; i < 20; i++) signals.push(await wait());
    // What a wait captured (its signal) is collectable once it ended.
    expect(await stillHeld(signals)).toBe(0);
    expect(registry.hasSynced()).toBe(false);
  });
});

describe('the idle timer of a live stream', () => {
  it('counts the bytes of an unfinished event: a large event arriving slowly is no stall', async () => {
    const clock = new FakeClock();
    let stream: import('node:http').ServerResponse | undefined;
    const url = await scriptedServer((_req, res) => {
      stream = res;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: heartbeat\ndata: {"version":1,"ready":true,"intervalMs":60000}\n\n');
      res.write('event: snapshot\nid: 1\ndata: {"version":1,"backends":[]}\n\n');
    });
    const registry = client({ url, clock, idleTimeoutMs: 1000, connectTimeoutMs: 1000 });
    await registry.ready;
    const a = JSON.stringify(backend('a'));
    const pieces = [
      'event: change\nid: 2\ndata: {"version":2,"upse',
      `rted":[${a}`,
      '],"removed":[]}\n\n',
    ];
    for (const piece of pieces) {
      await delivered(stream, piece);
      // Each piece within the idle timeout of the one before; the whole event takes longer.
      clock.advance(900);
    }
    await eventually(() => registry.status().sidecarVersion === 2);
    expect(registry.get('a')).toEqual(backend('a'));
    expect(registry.status()).toMatchObject({ phase: 'streaming', reconnects: {} });
  });
});

describe('Retry-After', () => {
  it('is honoured up to the backoff maximum, not for an hour', async () => {
    const clock = new FakeClock();
    let requests = 0;
    const url = await scriptedServer((_req, res) => {
      requests++;
      res.writeHead(503, { 'retry-after': '3600', 'content-length': '0' }).end();
    });
    const logger = recordingLogger();
    const registry: RegistryClient = client({ url, clock, random: () => 0.5, logger });
    await eventually(() => retryDelays(logger).length === 1);
    expect(retryDelays(logger)).toEqual([10_000]);
    clock.advance(10_000);
    await eventually(() => retryDelays(logger).length === 2);
    expect(requests).toBe(2);
    expect(registry.status().reconnects).toEqual({ unreachable: 2 });
  });
});

/** Writes `text` to a stream and waits until the client in this process has read it. */
async function delivered(
  stream: import('node:http').ServerResponse | undefined,
  text: string,
): Promise<void> {
  if (stream === undefined) throw new Error('no stream open');
  await new Promise((resolve) => stream.write(text, resolve));
  // On loopback the bytes are there once written: a few turns of the loop let the client read.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  await settled();
}
