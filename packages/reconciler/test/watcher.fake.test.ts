/**
 * The BackendWatcher's answers to issue 24 (rotated Secrets, name clashes across groups,
 * readiness) and to static stability for its own credentials, against the in-process API server
 * with a proxy in front, on a fake clock where timing is the subject.
 */
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { BackendWatcher } from '../src/index.js';
import {
  API,
  GROUP,
  headerValue,
  NS,
  secretBackend,
  secretPath,
  useFakeCluster,
  WAIT,
} from './support/fake-cluster.js';
import { recordingLogger } from './support/recording-logger.js';

const cluster = useFakeCluster();
const PERIOD = 60_000;
/** Jitter ×1: rounds land on multiples of the period. */
const random = () => 0.5;

/** A sum of the samples of one metric (all label sets). */
async function metricSum(metrics: Registry, name: string, labels = ''): Promise<number> {
  const text = await metrics.metrics();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (labels === '' || line.includes(labels)) sum += Number(line.split(' ').at(-1));
    }
  }
  return sum;
}
const reconciles = (metrics: Registry) => metricSum(metrics, 'controller_runtime_reconcile_total');

/** Objects of several secret backends, each Secret once. */
function backends(...lists: object[][]): object[] {
  const seen = new Set<string>();
  return lists.flat().filter((object) => {
    const { kind, metadata } = object as { kind: string; metadata: { name: string } };
    const key = `${kind}/${metadata.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Waits until the queue has been idle long enough for every reconcile now due to have run. */
async function settled(watcher: BackendWatcher, metrics: Registry): Promise<number> {
  let last = -1;
  await vi.waitFor(
    async () => {
      const queue = watcher.manager.controllers[0]?.queue;
      const count = await reconciles(metrics);
      const idle = queue !== undefined && queue.len() === 0 && queue.processingCount === 0;
      const stable = count === last;
      last = count;
      expect(idle && stable).toBe(true);
    },
    { ...WAIT, interval: 100 },
  );
  return last;
}

describe('the secret refresh', () => {
  function startRefreshing() {
    cluster.load(
      backends(
        secretBackend('a', { secret: 'shared' }),
        secretBackend('b', { secret: 'shared' }),
        secretBackend('c'),
      ),
    );
    const clock = new FakeClock();
    const metrics = new Registry();
    const started = cluster.start({
      clock,
      random,
      secretRefreshPeriodMs: PERIOD,
      metricsRegistry: metrics,
    });
    return { ...started, clock, metrics };
  }
  const metadataReads = (secret: string) =>
    cluster.proxy.metadataRequests.filter((line) => line === `GET ${secretPath(secret)}`).length;

  it('serves a rotated Secret one period later with the resync off, reading each Secret once per period (metadata only) and re-reconciling only the backends that use it', async () => {
    const { registry, watcher, clock, metrics } = startRefreshing();
    await vi.waitFor(() => expect(registry.count()).toBe(3), WAIT);
    const before = await settled(watcher, metrics);
    expect(metadataReads('shared')).toBe(0);

    await cluster.putSecret('shared', 'rotated');
    clock.advance(PERIOD - 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(headerValue(registry.get('a'))).toBe('value-shared');
    clock.advance(1);
    await vi.waitFor(() => expect(headerValue(registry.get('a'))).toBe('rotated'), WAIT);
    await vi.waitFor(() => expect(headerValue(registry.get('b'))).toBe('rotated'), WAIT);
    // Only a and b were reconciled again; each Secret was read once, metadata only.
    expect(await settled(watcher, metrics)).toBe(before + 2);
    expect([metadataReads('shared'), metadataReads('secret-c')]).toEqual([1, 1]);
    expect(await metricSum(metrics, 'vmcp_secret_refresh_reads_total', 'result="changed"')).toBe(1);
    expect(await metricSum(metrics, 'vmcp_secret_refresh_secrets')).toBe(2);

    // Nothing changed: one more read each, no reconcile.
    clock.advance(PERIOD);
    await vi.waitFor(() => expect(metadataReads('secret-c')).toBe(2), WAIT);
    expect(await settled(watcher, metrics)).toBe(before + 2);
    expect(metadataReads('shared')).toBe(2);
  });

  it('removes the backends of a deleted Secret at the next period, and keeps them through a failed read', async () => {
    const { registry, watcher, clock, metrics } = startRefreshing();
    await vi.waitFor(() => expect(registry.count()).toBe(3), WAIT);
    await settled(watcher, metrics);
    const version = registry.version;
    // A refresh read that fails changes nothing, whatever happened to the Secret.
    await cluster.putSecret('secret-c', 'rotated');
    cluster.proxy.failing.set(secretPath('secret-c'), {
      status: 503,
      reason: 'ServiceUnavailable',
    });
    clock.advance(PERIOD);
    await vi.waitFor(
      async () =>
        expect(await metricSum(metrics, 'vmcp_secret_refresh_reads_total', 'result="failed"')).toBe(
          1,
        ),
      WAIT,
    );
    await settled(watcher, metrics);
    expect(registry.version).toBe(version);
    expect(headerValue(registry.get('c'))).toBe('value-secret-c');
    // The Secret deleted: the backend that uses it goes at the next period.
    cluster.proxy.failing.clear();
    await cluster.remove(secretPath('secret-c'));
    clock.advance(PERIOD);
    await vi.waitFor(() => expect(registry.get('c')).toBeUndefined(), WAIT);
    expect(registry.list().map((b) => b.id)).toEqual(['a', 'b']);
  });

  it('ends a hung refresh read at the read bound, as a failed read that changes nothing', async () => {
    cluster.load(secretBackend('slow'));
    const clock = new FakeClock();
    const metrics = new Registry();
    const { registry, watcher } = cluster.start({
      clock,
      random,
      secretRefreshPeriodMs: PERIOD,
      readTimeoutMs: 300,
      metricsRegistry: metrics,
    });
    await vi.waitFor(() => expect(registry.get('slow')).toBeDefined(), WAIT);
    const before = await settled(watcher, metrics);
    cluster.proxy.hung.add(secretPath('secret-slow'));
    clock.advance(PERIOD);
    await vi.waitFor(
      async () =>
        expect(await metricSum(metrics, 'vmcp_secret_refresh_reads_total', 'result="failed"')).toBe(
          1,
        ),
      WAIT,
    );
    expect(await settled(watcher, metrics)).toBe(before);
    expect(registry.get('slow')).toBeDefined();
    // The round is over: the next one is scheduled.
    await vi.waitFor(() => expect(clock.timersDueIn()).toContain(PERIOD), WAIT);
  });

  it('serves a backend within a period once the Secret it waits for is created', async () => {
    const objects = secretBackend('late');
    cluster.load(objects.slice(1)); // no Secret yet
    const clock = new FakeClock();
    const { registry, watcher } = cluster.start({ clock, random, secretRefreshPeriodMs: PERIOD });
    // Every initial name decided: the reconcile of `late` recorded the Secret it waits for (an
    // explain reads afresh and can answer before it, and a refresh round then finds nothing).
    await vi.waitFor(() => expect(watcher.hasSynced()).toBe(true), WAIT);
    expect((await watcher.explain('late')).decision).toMatchObject({ reason: 'skipped' });
    cluster.load(objects.slice(0, 1));
    clock.advance(PERIOD);
    await vi.waitFor(
      () => expect(headerValue(registry.get('late'))).toBe('value-secret-late'),
      WAIT,
    );
  });
});

describe('readiness and the first snapshot', () => {
  const plain = {
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name: 'plain', namespace: NS },
    spec: { image: 'example/mcp:1', groupRef: { name: GROUP } },
    status: { phase: 'Ready', url: 'http://plain:8080' },
  };

  it('waits for a backend whose first Secret read failed for a transient reason', async () => {
    cluster.load([plain, ...secretBackend('slow')]);
    cluster.proxy.failing.set(secretPath('secret-slow'), {
      status: 503,
      reason: 'ServiceUnavailable',
      times: 1,
    });
    const clock = new FakeClock();
    const { registry, watcher } = cluster.start({ clock });
    await vi.waitFor(
      () => expect(watcher.failingReads().map((failing) => failing.name)).toEqual(['slow']),
      WAIT,
    );
    await vi.waitFor(() => expect(registry.get('plain')).toBeDefined(), WAIT);
    // The caches synced and the queue is empty (the retry waits on the clock): not ready yet.
    expect(watcher.manager.hasSynced()).toBe(true);
    expect(watcher.hasSynced()).toBe(false);
    expect(watcher.pendingInitialNames()).toEqual(['slow']);
    clock.advance(5); // the controller's first retry delay
    await vi.waitFor(() => expect(watcher.hasSynced()).toBe(true), WAIT);
    expect(registry.list().map((b) => b.id)).toEqual(['plain', 'slow']);
    expect(watcher.pendingInitialNames()).toEqual([]);
  });

  it('logs the initial backends at debug and their count once at info; each later change at info', async () => {
    const server = (name: string) => ({
      ...plain,
      metadata: { name, namespace: NS },
      status: { phase: 'Ready', url: `http://${name}:8080` },
    });
    cluster.load(['a', 'b', 'c'].map(server));
    const { logger, entries } = recordingLogger();
    const { registry, watcher } = cluster.start({ logger });
    await vi.waitFor(() => expect(watcher.hasSynced()).toBe(true), WAIT);
    const upserts = () => entries.filter((entry) => entry.msg === 'backend upserted');
    expect(upserts().map(({ level, backend }) => `${level} ${backend}`)).toEqual(
      expect.arrayContaining(['debug a', 'debug b', 'debug c']),
    );
    expect(upserts()).toHaveLength(3);
    const summaries = entries.filter((entry) => String(entry.msg).startsWith('initial backends'));
    expect(summaries).toEqual([
      expect.objectContaining({ level: 'info', upserted: 3, backends: 3 }),
    ]);
    await cluster.patch(`/apis/${API}/namespaces/${NS}/mcpservers/b`, {
      metadata: { annotations: { note: 'changed' } },
    });
    await vi.waitFor(() => expect(upserts()).toHaveLength(4), WAIT);
    expect(upserts()[3]).toMatchObject({ level: 'info', backend: 'b' });
    expect(registry.count()).toBe(3);
  });

  it('turns ready at initialSyncTimeoutMs, naming the names still pending, and serves them once they resolve', async () => {
    cluster.load([plain, ...secretBackend('denied')]);
    cluster.proxy.failing.set(secretPath('secret-denied'), { status: 403, reason: 'Forbidden' });
    const clock = new FakeClock();
    const { registry, watcher } = cluster.start({ clock, initialSyncTimeoutMs: 10_000 });
    await vi.waitFor(() => expect(registry.get('plain')).toBeDefined(), WAIT);
    await vi.waitFor(
      () => expect(watcher.failingReads()).toMatchObject([{ name: 'denied', reason: 'forbidden' }]),
      WAIT,
    );
    clock.advance(9_999);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(watcher.hasSynced()).toBe(false);
    clock.advance(1);
    expect(watcher.hasSynced()).toBe(true);
    expect(watcher.pendingInitialNames()).toEqual(['denied']);
    cluster.proxy.failing.clear();
    await vi.waitFor(() => {
      clock.advance(10_000);
      expect(registry.get('denied')).toBeDefined();
    }, WAIT);
    expect(watcher.pendingInitialNames()).toEqual([]);
  });
});

describe('a name clash across groups', () => {
  const entry = (group: string) => ({
    apiVersion: API,
    kind: 'MCPServerEntry',
    metadata: { name: 'docs', namespace: NS },
    spec: {
      remoteUrl: 'https://docs.example/mcp',
      transport: 'streamable-http',
      groupRef: { name: group },
    },
    status: { phase: 'Valid' },
  });
  const server = (group: string) => ({
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name: 'docs', namespace: NS },
    spec: { image: 'example/docs:1', groupRef: { name: group } },
    status: { phase: 'Ready', url: 'http://docs-server:8080' },
  });
  const serverPath = `/apis/toolhive.stacklok.dev/v1beta1/namespaces/${NS}/mcpservers/docs`;

  it.each([
    ['ours first', [entry(GROUP)], [server('sales')]],
    ["the other group's first", [server('sales')], [entry(GROUP)]],
  ])('serves our entry when created %s', async (_order, first, second) => {
    cluster.load(first);
    const metrics = new Registry();
    const { registry, watcher } = cluster.start({ metricsRegistry: metrics });
    expect(await watcher.waitForRegistrySync({ timeoutMs: WAIT.timeout })).toBe(true);
    const before = await reconciles(metrics);
    cluster.load(second);
    // Whichever came second, its event reconciles "docs" once more.
    await vi.waitFor(async () => expect(await reconciles(metrics)).toBeGreaterThan(before), WAIT);
    await settled(watcher, metrics);
    expect(registry.get('docs')).toMatchObject({
      type: 'entry',
      baseUrl: 'https://docs.example/mcp',
    });
    expect((await watcher.explain('docs')).decision).toMatchObject({
      kind: 'MCPServerEntry',
      otherGroups: [{ kind: 'MCPServer', group: 'sales' }],
    });
  });

  it("re-reconciles our name when the other group's object is deleted, moves into our group, and out again", async () => {
    cluster.load([entry(GROUP), server('sales')]);
    const metrics = new Registry();
    const { registry, watcher } = cluster.start({ metricsRegistry: metrics });
    expect(await watcher.waitForRegistrySync({ timeoutMs: WAIT.timeout })).toBe(true);
    expect(registry.get('docs')?.type).toBe('entry');
    // Moved into our group: it takes the name by precedence.
    await cluster.patch(serverPath, { spec: { groupRef: { name: GROUP } } });
    await vi.waitFor(
      () => expect(registry.get('docs')?.baseUrl).toBe('http://docs-server:8080'),
      WAIT,
    );
    // Out again: ours is the entry once more.
    await cluster.patch(serverPath, { spec: { groupRef: { name: 'sales' } } });
    await vi.waitFor(() => expect(registry.get('docs')?.type).toBe('entry'), WAIT);
    // Deleted: the name is reconciled (its decision no longer reports the other group's).
    const before = await settled(watcher, metrics);
    await cluster.remove(serverPath);
    await vi.waitFor(async () => expect(await reconciles(metrics)).toBe(before + 1), WAIT);
    expect(registry.get('docs')?.type).toBe('entry');
    expect((await watcher.explain('docs')).decision).toMatchObject({ otherGroups: [] });
  });
});

describe("the watcher's own credentials", () => {
  it.each([
    [401, 'Unauthorized', 'unauthorized'],
    [403, 'Forbidden', 'forbidden'],
  ])(
    'refused with %i through a resync: the backend is kept, counted, explained and logged once, until access returns',
    async (status, reason, why) => {
      cluster.load(secretBackend('kept'));
      const clock = new FakeClock();
      const metrics = new Registry();
      const { logger, entries: lines } = recordingLogger();
      const { registry, watcher } = cluster.start({
        clock,
        random,
        resyncPeriodMs: PERIOD,
        metricsRegistry: metrics,
        logger,
      });
      await vi.waitFor(() => expect(registry.get('kept')).toBeDefined(), WAIT);
      const served = registry.snapshot();
      cluster.proxy.failing.set(secretPath('secret-kept'), { status, reason });
      clock.advance(PERIOD); // the resync reads the Secret and is refused
      await vi.waitFor(
        () =>
          expect(watcher.failingReads()).toMatchObject([
            { name: 'kept', served: true, reason: why },
          ]),
        WAIT,
      );
      for (let i = 0; i < 5; i++) clock.advance(1_000); // retries, refused again
      await settled(watcher, metrics);
      expect(registry.list()).toEqual(served.backends);
      expect(registry.version).toBe(served.version);
      expect(await metricSum(metrics, 'vmcp_backends_kept_stale')).toBe(1);
      expect((await watcher.explain('kept')).failing).toMatchObject({ served: true, reason: why });
      const warnings = lines.filter((line) => line.level === 'warn' && line.backend === 'kept');
      expect(warnings).toMatchObject([
        {
          msg: 'read failing for now; keeping the backend as last resolved, retrying',
          reason: why,
        },
      ]);
      cluster.proxy.failing.clear();
      await vi.waitFor(() => {
        clock.advance(10_000);
        expect(watcher.failingReads()).toEqual([]);
      }, WAIT);
      expect(registry.version).toBe(served.version);
    },
  );
});
