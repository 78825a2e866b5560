/**
 * The secret refresh on a fake clock: each Secret that some name depends on is read once per
 * period, however many names use it, at most `concurrency` at once; a changed version
 * re-reconciles exactly the names resolved from another one; a failed read changes nothing.
 */
import { createObjectReader, type KubeObjectLike } from '@vmcp/discoverer';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { createDynamicRegistry } from '@vmcp/registry';
import { eventually } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';
import { BackendReconciler } from '../src/index.js';
import { jitteredResyncMs } from '../src/periodic.js';
import { SecretDependencies } from '../src/secret-dependencies.js';
import { type SecretRefreshResult, startSecretRefresh } from '../src/secret-refresh.js';
import { recordingLogger } from './support/recording-logger.js';

const PERIOD = 60_000;
/** With `random` 0.5 the jitter is ×1: every round lands on a multiple of the period. */
const random = () => 0.5;

/** Names a, b, c, d: a and b use s1, b and c use s2, d waits for s3 (missing). */
function setup(options: { concurrency?: number } = {}) {
  const clock = new FakeClock();
  const dependencies = new SecretDependencies();
  dependencies.record('a', new Map([['s1', '1']]));
  dependencies.record(
    'b',
    new Map([
      ['s1', '1'],
      ['s2', '5'],
    ]),
  );
  dependencies.record('c', new Map([['s2', '5']]));
  dependencies.record('d', new Map([['s3', null]]));
  const versions = new Map<string, string | null>([
    ['s1', '1'],
    ['s2', '5'],
    ['s3', null],
  ]);
  const reads: string[] = [];
  const enqueued: string[] = [];
  const results: SecretRefreshResult[] = [];
  const { logger, lines } = recordingLogger();
  const failing = new Set<string>();
  let inFlight = 0;
  let peak = 0;
  const stop = startSecretRefresh({
    periodMs: PERIOD,
    dependencies,
    read: async (secret) => {
      reads.push(secret);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (failing.has(secret)) throw Object.assign(new Error('down'), { code: 503 });
      return versions.get(secret) ?? null;
    },
    enqueue: (name) => enqueued.push(name),
    concurrency: options.concurrency ?? 4,
    clock,
    random,
    logger,
    observe: (result) => results.push(result),
  });
  /** Moves to the next round and waits until it has read every Secret. */
  const round = async () => {
    await eventually(() => clock.pendingTimers === 1);
    const before = results.length;
    clock.advance(PERIOD);
    await eventually(() => results.length === before + dependencies.size);
  };
  return {
    clock,
    dependencies,
    versions,
    reads,
    enqueued,
    results,
    lines,
    failing,
    stop,
    round,
    peak: () => peak,
  };
}

describe('the secret refresh', () => {
  it('reads each Secret once per period however many names use it, and nothing before', async () => {
    const { clock, reads, enqueued, round, stop } = setup();
    clock.advance(PERIOD - 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toEqual([]);
    clock.advance(1);
    await eventually(() => reads.length === 3);
    expect(reads.sort()).toEqual(['s1', 's2', 's3']);
    await round();
    await round();
    expect(reads).toHaveLength(9);
    for (const secret of ['s1', 's2', 's3'])
      expect(reads.filter((r) => r === secret)).toHaveLength(3);
    expect(enqueued).toEqual([]);
    stop();
  });

  it('re-reconciles exactly the names resolved from another version', async () => {
    const { dependencies, versions, enqueued, results, lines, round, stop } = setup();
    versions.set('s1', '2'); // rotated: a and b use it
    await round();
    expect(enqueued.sort()).toEqual(['a', 'b']);
    // Their reconciles read the new version.
    dependencies.record('a', new Map([['s1', '2']]));
    dependencies.record(
      'b',
      new Map([
        ['s1', '2'],
        ['s2', '5'],
      ]),
    );
    enqueued.length = 0;
    versions.set('s2', null); // deleted: b and c use it
    versions.set('s3', '9'); // created: d waits for it
    await round();
    expect(enqueued.sort()).toEqual(['b', 'c', 'd']);
    expect(results.slice(-3).sort()).toEqual(['changed', 'changed', 'unchanged']);
    expect(lines.filter((line) => line.includes('Secret changed'))).toHaveLength(3);
    stop();
  });

  it('keeps re-reconciling a name until a reconcile records the new version', async () => {
    const { dependencies, versions, enqueued, round, stop } = setup();
    versions.set('s3', '9');
    await round();
    await round();
    expect(enqueued).toEqual(['d', 'd']);
    dependencies.record('d', new Map([['s3', '9']]));
    await round();
    expect(enqueued).toEqual(['d', 'd']);
    stop();
  });

  it('changes nothing when a read fails, says so once per round, and reads it again next round', async () => {
    const { versions, failing, enqueued, results, lines, round, stop } = setup();
    versions.set('s1', '2');
    failing.add('s1');
    await round();
    expect(enqueued).toEqual([]);
    expect(results.filter((r) => r === 'failed')).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('warn Secret refresh'))).toHaveLength(1);
    failing.clear();
    await round();
    expect(enqueued.sort()).toEqual(['a', 'b']);
    stop();
  });

  it('reads at most `concurrency` Secrets at once', async () => {
    const { dependencies, round, peak, stop } = setup({ concurrency: 2 });
    for (let i = 0; i < 20; i++) dependencies.record(`n${i}`, new Map([[`x${i}`, '1']]));
    await round();
    expect(peak()).toBe(2);
    stop();
  });

  it('runs the next round one jittered period after the last started, never two at once', async () => {
    const clock = new FakeClock();
    const dependencies = new SecretDependencies();
    dependencies.record('a', new Map([['s1', '1']]));
    let release: () => void = () => undefined;
    let reads = 0;
    const stop = startSecretRefresh({
      periodMs: PERIOD,
      dependencies,
      read: () => {
        reads++;
        return new Promise((resolve) => {
          release = () => resolve('1');
        });
      },
      enqueue: () => undefined,
      concurrency: 1,
      clock,
      random: () => 0,
      logger: recordingLogger().logger,
    });
    const jittered = jitteredResyncMs(PERIOD, () => 0);
    expect(clock.timersDueIn()).toEqual([jittered]);
    clock.advance(jittered);
    expect(reads).toBe(1);
    // The round is still reading: nothing is scheduled meanwhile.
    clock.advance(jittered * 3);
    expect(clock.pendingTimers).toBe(0);
    expect(reads).toBe(1);
    release();
    await eventually(() => clock.pendingTimers === 1);
    // It took longer than a period: the next round starts at once.
    expect(clock.timersDueIn()).toEqual([0]);
    stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('is off with period 0', () => {
    const clock = new FakeClock();
    const stop = startSecretRefresh({
      periodMs: 0,
      dependencies: new SecretDependencies(),
      read: async () => '1',
      enqueue: () => undefined,
      concurrency: 1,
      clock,
      logger: recordingLogger().logger,
    });
    expect(clock.pendingTimers).toBe(0);
    stop();
  });
});

describe('SecretDependencies, as the reconciler records them', () => {
  const API = 'toolhive.stacklok.dev/v1beta1';
  const NS = 'tools';
  const authConfig = (name: string, secret: string): KubeObjectLike => ({
    apiVersion: API,
    kind: 'MCPExternalAuthConfig',
    metadata: { name, namespace: NS },
    spec: {
      type: 'headerInjection',
      headerInjection: { headerName: 'X-Key', valueSecretRef: { name: secret, key: 'value' } },
    },
  });
  const server = (name: string, auth?: string, group = 'g'): KubeObjectLike => ({
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name, namespace: NS },
    spec: { groupRef: { name: group }, ...(auth ? { externalAuthConfigRef: { name: auth } } : {}) },
    status: { phase: 'Ready', url: `http://${name}:8080` },
  });
  const secret = (name: string, resourceVersion: string): KubeObjectLike => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NS, resourceVersion },
    data: { value: Buffer.from('v').toString('base64') },
  });

  function setupReconciler(objects: KubeObjectLike[]) {
    const reader = createObjectReader(objects);
    const reconciler = new BackendReconciler({
      namespace: NS,
      group: 'g',
      registry: createDynamicRegistry(),
      reader,
    });
    return { reader, reconciler, dependencies: reconciler.secretDependencies };
  }
  const request = (name: string) => ({ namespace: NS, name });

  it('records the Secrets a served backend was resolved from, at the versions read', async () => {
    const { reconciler, dependencies } = setupReconciler([
      server('a', 'auth'),
      server('b', 'auth'),
      server('plain'),
      authConfig('auth', 'key'),
      secret('key', '7'),
    ]);
    for (const name of ['a', 'b', 'plain']) await reconciler.reconcile(request(name));
    expect(dependencies.secrets()).toEqual(['key']);
    expect(dependencies.dependents('key').sort()).toEqual(['a', 'b']);
    expect([...dependencies.of('a')]).toEqual([['key', '7']]);
    expect(dependencies.stale('key', '7')).toEqual([]);
    expect(dependencies.stale('key', '8').sort()).toEqual(['a', 'b']);
  });

  it('records a Secret a name waits for (missing), and forgets a name that is gone', async () => {
    const { reconciler, dependencies, reader } = setupReconciler([
      server('a', 'auth'),
      authConfig('auth', 'key'),
    ]);
    await reconciler.reconcile(request('a'));
    expect([...dependencies.of('a')]).toEqual([['key', null]]);
    reader.getWorkload = async () => undefined;
    await reconciler.reconcile(request('a'));
    expect(dependencies.secrets()).toEqual([]);
  });

  it('leaves the record as it was when a read fails for a transient reason', async () => {
    const { reconciler, dependencies, reader } = setupReconciler([
      server('a', 'auth'),
      authConfig('auth', 'key'),
      secret('key', '7'),
    ]);
    await reconciler.reconcile(request('a'));
    reader.getSecret = async () => {
      throw Object.assign(new Error('down'), { code: 503 });
    };
    await reconciler.reconcile(request('a'));
    expect([...dependencies.of('a')]).toEqual([['key', '7']]);
  });

  it('records nothing for explain (a dry run)', async () => {
    const { reconciler, dependencies } = setupReconciler([
      server('a', 'auth'),
      authConfig('auth', 'key'),
      secret('key', '7'),
    ]);
    await reconciler.explain('a');
    expect(dependencies.size).toBe(0);
  });
});
