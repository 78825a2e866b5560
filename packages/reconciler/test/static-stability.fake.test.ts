/**
 * The BackendWatcher against the in-process API server, with a proxy in front that can hang
 * chosen paths: bounded reads, workers that are not held up by a hung read, resync on an injected
 * clock, and metadata-only ConfigMaps.
 */
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { type BackendWatcherOptions, jitteredResyncMs } from '../src/index.js';
import {
  API,
  GROUP,
  NS,
  secretBackend as secretBackendOf,
  secretPath,
  useFakeCluster,
  WAIT,
} from './support/fake-cluster.js';

const SECRET = 'planted-secret-91c3f0';
const cluster = useFakeCluster();
const load = (objects: object[]) => cluster.load(objects);
const start = (options: Partial<BackendWatcherOptions> = {}) => cluster.start(options);
/** An MCPServer whose header auth reads Secret `secret-<name>` (its value holds {@link SECRET}). */
const secretBackend = (name: string) => secretBackendOf(name, { value: SECRET });

describe('BackendWatcher reads', () => {
  it('bounds each read: a hung Secret GET fails after readTimeoutMs and holds up no other name', async () => {
    load([...secretBackend('hung'), ...secretBackend('fine')]);
    cluster.proxy.hung.add(secretPath('secret-hung'));
    const { registry, watcher } = start({ workers: 2, readTimeoutMs: 200 });
    await vi.waitFor(() => expect(registry.get('fine')).toBeDefined(), WAIT);
    expect(registry.get('hung')).toBeUndefined();
    await vi.waitFor(
      () =>
        expect(watcher.failingReads()).toContainEqual(
          expect.objectContaining({
            name: 'hung',
            served: false,
            cause: expect.stringContaining('could not be read (ETIMEDOUT)'),
          }),
        ),
      WAIT,
    );
    cluster.proxy.hung.delete(secretPath('secret-hung'));
    await vi.waitFor(() => expect(registry.get('hung')).toBeDefined(), WAIT);
    expect(watcher.failingReads()).toEqual([]);
  });

  it('with one worker, a hung read holds up the next name until the read bound passes', async () => {
    load(secretBackend('a-hung'));
    cluster.proxy.hung.add(secretPath('secret-a-hung'));
    const { registry, watcher } = start({
      workers: 1,
      readTimeoutMs: 1_500,
      gracefulShutdownTimeoutMs: 100,
    });
    await vi.waitFor(
      () => expect(cluster.proxy.requests).toContain(`GET ${secretPath('secret-a-hung')}`),
      WAIT,
    );
    // The one worker sits in the hung read: a name added now waits for it.
    load(secretBackend('b-fine'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(registry.get('b-fine')).toBeUndefined();
    await vi.waitFor(() => expect(registry.get('b-fine')).toBeDefined(), WAIT);
    expect(watcher.failingReads()).toContainEqual(
      expect.objectContaining({ name: 'a-hung', served: false }),
    );
  });

  it('keeps served backends through a resync while the API server hangs, and counts them', async () => {
    load([...secretBackend('one'), ...secretBackend('two')]);
    const clock = new FakeClock();
    const metricsRegistry = new Registry();
    const { registry, watcher } = start({
      resyncPeriodMs: 60_000,
      clock,
      random: () => 0.5,
      readTimeoutMs: 200,
      metricsRegistry,
    });
    await vi.waitFor(() => expect(registry.count()).toBe(2), WAIT);
    const served = registry.snapshot();
    cluster.proxy.hung.add(secretPath('secret-one'));
    cluster.proxy.hung.add(secretPath('secret-two'));
    clock.advance(60_000); // the resync: every name is reconciled again, and its reads hang
    await vi.waitFor(
      () => expect(watcher.failingReads().filter((failing) => failing.served)).toHaveLength(2),
      WAIT,
    );
    expect(registry.version).toBe(served.version);
    expect(registry.list()).toEqual(served.backends);
    const metrics = await metricsRegistry.metrics();
    expect(metrics).toMatch(/^vmcp_backends_kept_stale 2$/m);
    expect(metrics).toMatch(/^vmcp_backends_kept_stale_oldest_seconds \d+(\.\d+)?$/m);
    expect(metrics).not.toContain(SECRET);
    const explanation = await watcher.explain('one');
    expect(explanation.failing).toMatchObject({ served: true, lastResolvedAt: expect.any(Number) });
    expect(JSON.stringify(explanation)).not.toContain(SECRET);
    cluster.proxy.hung.clear();
    // The retries wait on the watcher's clock (the controller's rate limiter): move it on.
    await vi.waitFor(() => {
      clock.advance(1_000);
      expect(watcher.failingReads()).toEqual([]);
    }, WAIT);
    expect(registry.version).toBe(served.version);
  });

  it('resyncs on its clock with jitter, picking up a rotated Secret, and not at all with period 0', async () => {
    load(secretBackend('rotated'));
    const clock = new FakeClock();
    const { registry } = start({ resyncPeriodMs: 60_000, clock, random: () => 0 });
    await vi.waitFor(() => expect(registry.get('rotated')).toBeDefined(), WAIT);
    const secrets = `/api/v1/namespaces/${NS}/secrets/secret-rotated`;
    const reads = () => cluster.proxy.requests.filter((r) => r === `GET ${secrets}`).length;
    const before = reads();
    // Rotate the Secret: nothing watches Secrets, so only the resync sees it.
    await cluster.putSecret('secret-rotated', 'rotated-value');
    clock.advance(jitteredResyncMs(60_000, () => 0) - 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reads()).toBe(before);
    clock.advance(1);
    await vi.waitFor(() => expect(reads()).toBe(before + 1), WAIT);
    await vi.waitFor(
      () =>
        expect(registry.get('rotated')?.authConfig).toMatchObject({ headerValue: 'rotated-value' }),
      WAIT,
    );
  });

  it('resyncs never when the period is 0', async () => {
    load(secretBackend('still'));
    const clock = new FakeClock();
    const { registry } = start({ resyncPeriodMs: 0, clock });
    await vi.waitFor(() => expect(registry.get('still')).toBeDefined(), WAIT);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('CA ConfigMaps', () => {
  it('are watched as metadata only, and the referenced data is read when an entry is reconciled', async () => {
    const pem = (n: number) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;
    load([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ca', namespace: NS },
        data: { 'ca.crt': pem(1) },
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'dashboard', namespace: NS },
        data: { big: 'x'.repeat(100_000) },
      },
      {
        apiVersion: API,
        kind: 'MCPServerEntry',
        metadata: { name: 'entry', namespace: NS },
        spec: {
          remoteUrl: 'https://remote.example/mcp',
          transport: 'streamable-http',
          groupRef: { name: GROUP },
          caBundleRef: { configMapRef: { name: 'ca', key: 'ca.crt' } },
        },
        status: { phase: 'Valid' },
      },
    ]);
    const { registry, watcher } = start();
    await vi.waitFor(() => expect(registry.get('entry')?.caBundleData).toBe(pem(1)), WAIT);
    const informer = watcher.manager.informers.find((i) => i.resource.kind === 'ConfigMap');
    const cached = informer?.store.list() ?? [];
    expect(cached.map((o) => o.metadata.name).sort()).toContain('dashboard');
    for (const object of cached)
      expect(Object.keys(object).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    expect(cluster.proxy.requests).toContain(`GET /api/v1/namespaces/${NS}/configmaps/ca`);
    expect(cluster.proxy.requests).not.toContain(
      `GET /api/v1/namespaces/${NS}/configmaps/dashboard`,
    );

    await cluster.patch(`/api/v1/namespaces/${NS}/configmaps/ca`, { data: { 'ca.crt': pem(2) } });
    await vi.waitFor(() => expect(registry.get('entry')?.caBundleData).toBe(pem(2)), WAIT);
  });
});

describe('BackendWatcher.explain', () => {
  const secretReads = (name: string) =>
    cluster.proxy.requests.filter((r) => r === `GET ${secretPath(`secret-${name}`)}`).length;

  it('answers from what it holds without reading the API server when not fresh', async () => {
    load([...secretBackend('one'), ...secretBackend('hung')]);
    cluster.proxy.hung.add(secretPath('secret-hung'));
    const { registry, watcher } = start({ readTimeoutMs: 200 });
    await vi.waitFor(() => expect(registry.get('one')).toBeDefined(), WAIT);
    await vi.waitFor(() => expect(watcher.failingReads()).toHaveLength(1), WAIT);
    const before = cluster.proxy.requests.length;
    const served = await watcher.explain('one', { fresh: false });
    expect(served).toMatchObject({
      decision: { action: 'upsert', kind: 'MCPServer' },
      outcome: {
        kind: 'backend',
        backend: { id: 'one', authConfig: { headerValue: '[REDACTED]' } },
      },
      decidedAt: expect.any(Number),
    });
    const failing = await watcher.explain('hung', { fresh: false });
    expect(failing).toMatchObject({
      decision: { action: 'keep-and-retry' },
      failing: { name: 'hung', served: false },
    });
    const absent = await watcher.explain('nobody', { fresh: false });
    expect(absent.decision).toEqual({ action: 'remove', reason: 'not-found' });
    expect(cluster.proxy.requests.length).toBe(before);
    expect(JSON.stringify([served, failing])).not.toContain(SECRET);
  });

  it('decides a name not yet reconciled from its caches alone, reading no Secret', async () => {
    // One worker, held by a Secret read that hangs: a name created now waits in the queue.
    load(secretBackend('blocker'));
    cluster.proxy.hung.add(secretPath('secret-blocker'));
    const { watcher } = start({
      workers: 1,
      readTimeoutMs: 60_000,
      gracefulShutdownTimeoutMs: 200,
    });
    await vi.waitFor(() => expect(secretReads('blocker')).toBe(1), WAIT);
    load(secretBackend('late'));
    await vi.waitFor(async () => {
      const explained = await watcher.explain('late', { fresh: false });
      expect(explained.decision).toMatchObject({ action: 'keep-and-retry', kind: 'MCPServer' });
      expect(explained.decidedAt).toBeUndefined();
      expect(explained.decision).toMatchObject({
        error: { message: expect.stringContaining('could not be read (NOT_READ)') },
      });
    }, WAIT);
    expect(secretReads('late')).toBe(0);
  });

  it('reads afresh when asked, each Secret once, and abandons the reads when the signal aborts', async () => {
    load(secretBackend('one'));
    const { registry, watcher } = start({ readTimeoutMs: 60_000 });
    await vi.waitFor(() => expect(registry.get('one')).toBeDefined(), WAIT);
    const reads = secretReads('one');
    expect(await watcher.explain('one')).toMatchObject({ outcome: { kind: 'backend' } });
    expect(secretReads('one')).toBe(reads + 1);

    cluster.proxy.hung.add(secretPath('secret-one'));
    const client = new AbortController();
    const explaining = watcher.explain('one', { fresh: true, signal: client.signal });
    await vi.waitFor(() => expect(secretReads('one')).toBe(reads + 2), WAIT);
    client.abort();
    // Not the 60 s read timeout: the read ends with the signal, as a transient failure.
    const explained = await explaining;
    expect(explained.decision).toMatchObject({ action: 'keep-and-retry' });
  });
});
