import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { memoByVersion, REDACTED } from '@vmcp/registry';
import { eventually } from '@vmcp/test-support';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { connectRegistry, type RegistryClient, RegistryClientError } from '../src/index.js';
import { backend } from './support/api.js';
import {
  caughtUp,
  client,
  scriptedServer,
  settled,
  sidecar,
  stillHeld,
  take,
} from './support/harness.js';
import { FaultProxy } from './support/proxy.js';

const TOKEN = 'client-test-token-3c9f';
const SECRET = 'planted-client-secret-81d2';
const withSecret = (id: string) =>
  backend(id, {
    authConfig: { type: 'header_injection', headerName: 'X-Key', headerValue: SECRET },
  });

describe('connectRegistry: readiness', () => {
  it('says clearly that nothing is held before the first snapshot of a ready sidecar', async () => {
    const api = await sidecar();
    api.registry.upsert(backend('a'));
    api.state.ready = false;
    const registry = client({ url: api.url });
    expect(() => registry.list()).toThrow(/no snapshot of the registry is held yet/);
    expect(() => registry.version).toThrow(RegistryClientError);
    expect(await registry.waitForSync({ timeoutMs: 300 })).toBe(false);
    expect(registry.hasSynced()).toBe(false);
    api.state.ready = true;
    expect(await registry.waitForSync({ timeoutMs: 20_000 })).toBe(true);
    expect(registry.list()).toEqual([backend('a')]);
  });

  it('rejects waitForSync with the reason of its aborted signal', async () => {
    const api = await sidecar();
    api.state.ready = false;
    const registry = client({ url: api.url });
    const controller = new AbortController();
    const waiting = registry.waitForSync({ signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
  });

  it('starts a feed opened before the first snapshot with a reset carrying it', async () => {
    const api = await sidecar({ initialVersion: 50 });
    api.registry.upsert(backend('a'));
    const registry = client({ url: api.url });
    const feed = registry.changes();
    const [first] = await take(feed, 1);
    expect(first).toEqual({ version: 51, upserted: [backend('a')], removed: [], reset: true });
  });
});

describe('connectRegistry: following the sidecar', () => {
  it('follows every change over the event stream, version for version', async () => {
    const api = await sidecar({ initialVersion: 1000 });
    const registry = client({ url: api.url });
    await registry.ready;
    const feed = registry.changes();
    api.registry.upsert(backend('a'));
    api.registry.apply([
      { op: 'upsert', backend: backend('b') },
      { op: 'upsert', backend: backend('c') },
    ]);
    api.registry.remove('a');
    const changes = await take(feed, 3);
    expect(changes.map((c) => c.version)).toEqual([1001, 1002, 1003]);
    expect(changes[2]).toEqual({ version: 1003, upserted: [], removed: ['a'] });
    expect(registry.snapshot()).toEqual(api.registry.snapshot());
    expect(registry.status()).toMatchObject({ phase: 'streaming', transport: 'events' });
  });

  it('follows by long-poll: a step of one is a change, a jump is a reset, answers are gzipped', async () => {
    const api = await sidecar({ initialVersion: 10 });
    await using proxy = await FaultProxy.start(api.url);
    const registry = client({ url: proxy.url, transport: 'long-poll' });
    await registry.ready;
    const feed = registry.changes();
    api.registry.upsert(backend('a'));
    const [step] = await take(feed, 1);
    expect(step).toEqual({ version: 11, upserted: [backend('a')], removed: [] });
    // Two changes in one turn: the poll answers with both, the one in between is not known.
    api.registry.upsert(backend('b'));
    api.registry.remove('a');
    const [jump] = await take(feed, 1);
    expect(jump).toEqual({ version: 13, upserted: [backend('b')], removed: [], reset: true });
    expect(registry.list()).toEqual([backend('b')]);
    expect(registry.status()).toMatchObject({ phase: 'polling', transport: 'long-poll' });
    expect(proxy.gzippedAnswers).toBeGreaterThan(0);
  });

  it('serves secret values with the token and says so; without it they stay redacted', async () => {
    const api = await sidecar({ apiToken: TOKEN });
    api.registry.upsert(withSecret('a'));
    const trusted = client({ url: api.url, token: TOKEN });
    const anonymous = client({ url: api.url });
    await Promise.all([trusted.ready, anonymous.ready]);
    expect(trusted.get('a')?.authConfig).toMatchObject({ headerValue: SECRET });
    expect(trusted.status().access).toBe('secrets');
    expect(anonymous.get('a')?.authConfig).toMatchObject({ headerValue: REDACTED });
    expect(anonymous.status().access).toBe('redacted');
  });

  it('never claims secrets when the sidecar has no token file, whatever token it sends', async () => {
    const api = await sidecar();
    api.registry.upsert(withSecret('a'));
    const registry = client({ url: api.url, token: TOKEN });
    await registry.ready;
    expect(registry.get('a')?.authConfig).toMatchObject({ headerValue: REDACTED });
    expect(registry.status().access).toBe('redacted');
  });
});

describe('connectRegistry: faults', () => {
  it('fails at once on a wrong token: no retry loop, and the token is in no message', async () => {
    const api = await sidecar({ apiToken: TOKEN });
    const logged: string[] = [];
    const log = (fields: object | string, message?: string) =>
      logged.push(JSON.stringify(fields) + (message ?? ''));
    const registry = client({
      url: api.url,
      token: 'wrong-token-5e7a',
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const error = await registry.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryClientError);
    expect(error).toMatchObject({ reason: 'Unauthorized', status: 401 });
    expect(String((error as Error).message)).toMatch(/token does not match/);
    expect(registry.status()).toMatchObject({ phase: 'failed', reconnects: {} });
    expect(() => registry.list()).toThrow(/401/);
    await expect(registry.waitForChange(0)).rejects.toMatchObject({ reason: 'Unauthorized' });
    await expect(registry.changes().next()).rejects.toMatchObject({ reason: 'Unauthorized' });
    for (const text of [...logged, (error as Error).message]) {
      expect(text).not.toContain('wrong-token-5e7a');
      expect(text).not.toContain(TOKEN);
    }
  });

  it('fails at once for a URL that is not the sidecar (404)', async () => {
    const api = await sidecar();
    const registry = client({ url: `${api.url}/not-here` });
    await expect(registry.ready).rejects.toMatchObject({ reason: 'Rejected', status: 404 });
  });

  it('resumes after a cut connection without a snapshot and without a gap', async () => {
    const api = await sidecar({ initialVersion: 300 });
    await using proxy = await FaultProxy.start(api.url);
    const registry = client({ url: proxy.url });
    await registry.ready;
    const feed = registry.changes();
    const cut = proxy.cutMidEvent();
    api.registry.upsert(backend('a'));
    await cut;
    api.registry.upsert(backend('b'));
    const changes = await take(feed, 2);
    expect(changes.map((c) => [c.version, c.reset === true])).toEqual([
      [301, false],
      [302, false],
    ]);
    expect(registry.status().reconnects.ended).toBe(1);
    expect(registry.status().resets).toBe(0);
  });

  it('detects a stalled stream by its missing heartbeats and resumes', async () => {
    const clock = new FakeClock();
    const api = await sidecar({ heartbeatMs: 60_000, initialVersion: 5 });
    const registry = client({ url: api.url, clock, random: () => 0.5 });
    await registry.ready;
    // Three intervals of silence (the clock is ours; the sidecar stays quiet).
    clock.advance(179_000);
    await settled();
    expect(registry.status().phase).toBe('streaming');
    clock.advance(1_000);
    await eventually(() => registry.status().phase === 'backingOff');
    expect(registry.status().reconnects).toEqual({ stall: 1 });
    api.registry.upsert(backend('late'));
    clock.advance(200);
    await caughtUp(registry, api);
    expect(registry.get('late')).toEqual(backend('late'));
    expect(registry.status().resets).toBe(0);
  });

  it('serves the last snapshot through a sidecar restart, then takes the new one as a reset', async () => {
    const first = await sidecar({ initialVersion: 1_000 });
    first.registry.upsert(backend('a'));
    first.registry.upsert(backend('b'));
    await using proxy = await FaultProxy.start(first.url);
    const registry = client({ url: proxy.url, backoff: { initialMs: 50, maxMs: 200 } });
    await registry.ready;
    const feed = registry.changes();
    const before = registry.list();
    await first.close();
    proxy.dropAll();
    const second = await sidecar({ initialVersion: 2_000 });
    second.state.ready = false;
    proxy.retarget(second.url);
    second.registry.upsert(backend('b'));
    // Down, then not ready: the last snapshot is served all along.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(registry.list()).toBe(before);
    second.registry.upsert(backend('c'));
    second.state.ready = true;
    const [reset] = await take(feed, 1);
    expect(reset).toEqual({
      version: 2_002,
      upserted: [backend('b'), backend('c')],
      removed: [],
      reset: true,
    });
    expect(registry.status().resets).toBe(1);
  });

  it('keeps its versions going up when a restarted sidecar starts lower, so memoByVersion is never stale', async () => {
    const first = await sidecar({ initialVersion: 0 });
    first.registry.upsert(backend('a'));
    first.registry.upsert(backend('b'));
    await using proxy = await FaultProxy.start(first.url);
    const registry = client({ url: proxy.url, backoff: { initialMs: 50, maxMs: 200 } });
    await registry.ready;
    const ids = memoByVersion(registry, () => registry.list().map((b) => b.id));
    expect(await ids()).toEqual(['a', 'b']);
    expect(registry.version).toBe(2);
    await first.close();
    proxy.dropAll();
    // A server that starts at 0 again (the sidecar never does: its versions start at its start
    // time) and is at version 1: below what the client held, so it sends a snapshot.
    const second = await sidecar({ initialVersion: 0 });
    second.registry.upsert(backend('x'));
    proxy.retarget(second.url);
    await registry.waitForChange(2, { timeoutMs: 20_000 });
    expect(registry.version).toBe(3);
    // The lag counts from what this sidecar announced, not from the first one's version 2.
    expect(registry.status()).toMatchObject({ sidecarVersion: 1, versionLag: 0, resets: 1 });
    expect(await ids()).toEqual(['x']);
    // Its version 2 is not the content the client held at 2: ours is 4.
    second.registry.upsert(backend('y'));
    await registry.waitForChange(3, { timeoutMs: 20_000 });
    expect(registry.version).toBe(4);
    expect(await ids()).toEqual(['x', 'y']);
  });

  it('falls back to the long-poll behind a proxy that buffers the stream, and back when it stops', async () => {
    const api = await sidecar({ initialVersion: 70 });
    await using proxy = await FaultProxy.start(api.url);
    proxy.bufferStreams = true;
    const registry = client({
      url: proxy.url,
      connectTimeoutMs: 300,
      streamRetryMs: 300,
      backoff: { initialMs: 20, maxMs: 50 },
    });
    await registry.ready;
    expect(registry.status()).toMatchObject({ transport: 'long-poll' });
    expect(registry.status().reconnects['stream-not-held']).toBe(3);
    api.registry.upsert(backend('a'));
    await caughtUp(registry, api);
    expect(registry.list()).toEqual([backend('a')]);
    // The probes resume from the version held: the sidecar sends them no snapshot.
    const probesFrom = proxy.streams.length;
    await eventually(() => proxy.streams.length >= probesFrom + 2);
    const held = String(registry.status().sidecarVersion);
    for (const probe of proxy.streams.slice(probesFrom)) {
      expect(probe).toEqual({ lastEventId: held, snapshot: false });
    }
    proxy.bufferStreams = false;
    while (registry.status().phase !== 'streaming')
      await registry.waitForChange(registry.version, { timeoutMs: 100 });
    api.registry.upsert(backend('b'));
    await caughtUp(registry, api);
    expect(registry.list()).toEqual([backend('a'), backend('b')]);
  });

  it('drops a stream that sends something malformed, says why, and carries on', async () => {
    let requests = 0;
    const url = await scriptedServer((_req: IncomingMessage, res: ServerResponse) => {
      requests++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: heartbeat\ndata: {"version":1,"ready":true,"intervalMs":60000}\n\n');
      res.write(
        requests === 1
          ? `event: snapshot\nid: 1\ndata: {"version":1,"backends":[{"name":"${SECRET}"}]}\n\n`
          : 'event: snapshot\nid: 1\ndata: {"version":1,"backends":[]}\n\n',
      );
    });
    const warnings: string[] = [];
    const ignore = () => undefined;
    const registry = client({
      url,
      backoff: { initialMs: 10, maxMs: 20 },
      logger: {
        debug: ignore,
        info: ignore,
        error: ignore,
        warn: (fields, message) => warnings.push(JSON.stringify(fields) + message),
      },
    });
    await registry.ready;
    expect(registry.list()).toEqual([]);
    expect(registry.status().reconnects.malformed).toBe(1);
    expect(warnings.join()).toContain('a snapshot with a backend that has no id');
    expect(warnings.join()).not.toContain(SECRET);
  });
});

describe('connectRegistry: lifecycle', () => {
  it('closes on its signal: feeds end, waits reject, reads keep the last snapshot, no handle left', async () => {
    const api = await sidecar();
    api.registry.upsert(backend('a'));
    const before = new Set(process.getActiveResourcesInfo());
    const controller = new AbortController();
    const registry = connectRegistry({ url: api.url, signal: controller.signal });
    await registry.ready;
    const feed = registry.changes();
    const pending = feed.next();
    const wait = registry.waitForChange(registry.version);
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    await expect(wait).rejects.toMatchObject({ reason: 'Closed' });
    await registry.close();
    expect(registry.status().phase).toBe('closed');
    expect(registry.list()).toEqual([backend('a')]);
    const after = process.getActiveResourcesInfo().filter((r) => !before.has(r));
    expect(after.filter((r) => r === 'Timeout' || r === 'TCPSocketWrap')).toEqual([]);
  });

  it('keeps nothing of a waitForChange that ended, its timeout on the injected clock', async () => {
    const api = await sidecar();
    const clock = new FakeClock();
    const registry = client({ url: api.url, clock });
    await registry.ready;
    const wait = async (): Promise<WeakRef<AbortSignal>> => {
      const controller = new AbortController();
      const waiting = registry.waitForChange(registry.version, {
        signal: controller.signal,
        timeoutMs: 5,
      });
      await settled();
      clock.advance(5);
      expect(await waiting).toEqual({ changed: false, version: registry.version });
      return new WeakRef(controller.signal);
    };
    const signals: WeakRef<AbortSignal>[] = [];
    for (let i = 0; i < 20; i++) signals.push(await wait());
    expect(await stillHeld(signals)).toBe(0);
  });

  it('closes at the end of an `await using` scope, and rejects ready if it never synced', async () => {
    const api = await sidecar();
    api.state.ready = false;
    let held: RegistryClient | undefined;
    {
      await using registry = connectRegistry({ url: api.url });
      held = registry;
    }
    expect(held.status().phase).toBe('closed');
    await expect(held.ready).rejects.toMatchObject({ reason: 'Closed' });
  });

  it('refuses bad options with a clear error that never quotes the token', () => {
    expect(() => connectRegistry({ url: 'ftp://x' })).toThrow(/http or https/);
    expect(() => connectRegistry({ url: 'not a url' })).toThrow(/absolute http/);
    expect(() => connectRegistry({ url: 'http://u:p@host' })).toThrow(/no credentials/);
    const bad = 'has space\nand-newline';
    expect(() => connectRegistry({ url: 'http://h', token: bad })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('newline') }),
    );
    expect(() => connectRegistry({ url: 'http://h', idleTimeoutMs: 0 })).toThrow(RangeError);
  });
});

describe('connectRegistry: metrics', () => {
  it('reports state, reconnects, resets and version lag, several clients in one registry', async () => {
    const api = await sidecar({ initialVersion: 40 });
    api.registry.upsert(backend('a'));
    const metrics = new Registry();
    const one = client({ url: api.url, metrics: { registry: metrics, name: 'one' } });
    const two = client({ url: api.url, metrics: { registry: metrics, name: 'two' } });
    await Promise.all([one.ready, two.ready]);
    const text = await metrics.metrics();
    expect(text).toContain('vmcp_registry_client_state{client="one",state="streaming"} 1');
    expect(text).toContain('vmcp_registry_client_state{client="two",state="connecting"} 0');
    expect(text).toContain('vmcp_registry_client_version{client="one"} 41');
    expect(text).toContain('vmcp_registry_client_version_lag{client="two"} 0');
    expect(text).toContain('vmcp_registry_client_resets_total{client="one"} 0');
    await one.close();
    expect(await metrics.metrics()).not.toContain('client="one"');
  });
});
