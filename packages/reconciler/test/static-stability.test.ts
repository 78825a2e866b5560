/**
 * A served backend changes or disappears only because the cluster's content changed: a read that
 * fails for a transient reason leaves the registry exactly as it is (issue: static stability).
 */
import { createObjectReader, type DiscoveryReader, type KubeObjectLike } from '@vmcp/discoverer';
import { Controller } from '@vmcp/kube-runtime';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { createDynamicRegistry } from '@vmcp/registry';
import { eventually } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';
import { BackendReconciler, type Decision } from '../src/index.js';
import { recordingLogger } from './support/recording-logger.js';

const NS = 'tools';
const GROUP = 'engineering';
const API = 'toolhive.stacklok.dev/v1beta1';
const SECRET = 'planted-secret-4b8d2e';

const secretServer = (name: string): KubeObjectLike => ({
  apiVersion: API,
  kind: 'MCPServer',
  metadata: { name, namespace: NS },
  spec: { groupRef: { name: GROUP }, externalAuthConfigRef: { name: 'auth' } },
  status: { phase: 'Ready', url: `http://${name}:8080` },
});
const caEntry = (name: string): KubeObjectLike => ({
  apiVersion: API,
  kind: 'MCPServerEntry',
  metadata: { name, namespace: NS },
  spec: {
    remoteUrl: 'https://entry.example/mcp',
    groupRef: { name: GROUP },
    caBundleRef: { configMapRef: { name: 'ca' } },
  },
  status: { phase: 'Valid' },
});
const OBJECTS: KubeObjectLike[] = [
  secretServer('s'),
  caEntry('e'),
  {
    apiVersion: API,
    kind: 'MCPExternalAuthConfig',
    metadata: { name: 'auth', namespace: NS },
    spec: {
      type: 'headerInjection',
      headerInjection: { headerName: 'X-Key', valueSecretRef: { name: 'key', key: 'value' } },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'key', namespace: NS },
    data: { value: Buffer.from(SECRET).toString('base64') },
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'ca', namespace: NS },
    data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
  },
];

function setup(now = { value: 1_000_000 }) {
  const registry = createDynamicRegistry();
  const reader: DiscoveryReader = createObjectReader(OBJECTS);
  const { logger, lines } = recordingLogger();
  const decisions: Decision[] = [];
  const reconciler = new BackendReconciler({
    namespace: NS,
    group: GROUP,
    registry,
    reader,
    logger,
    observer: { decided: (_name, decision) => decisions.push(decision) },
    now: () => now.value,
  });
  return { registry, reader, reconciler, lines, decisions, now };
}
const request = (name: string) => ({ namespace: NS, name });

/** Each transient failure kind, as the reader's GET would throw it (the message plants a secret). */
const TRANSIENT: [string, () => Error][] = [
  [
    'connection refused',
    () => Object.assign(new Error(`refused ${SECRET}`), { code: 'ECONNREFUSED' }),
  ],
  ['connection reset', () => Object.assign(new Error(`reset ${SECRET}`), { code: 'ECONNRESET' })],
  [
    'a read timeout',
    () => Object.assign(new Error(`slow ${SECRET}`), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
  ],
  [
    '429',
    () => Object.assign(new Error(`throttled ${SECRET}`), { code: 429, reason: 'TooManyRequests' }),
  ],
  [
    '500',
    () => Object.assign(new Error(`internal ${SECRET}`), { code: 500, reason: 'InternalError' }),
  ],
  [
    '503',
    () =>
      Object.assign(new Error(`unavailable ${SECRET}`), {
        code: 503,
        reason: 'ServiceUnavailable',
      }),
  ],
  ['504', () => Object.assign(new Error(`timeout ${SECRET}`), { code: 504, reason: 'Timeout' })],
];
/** Which read of which workload fails. */
const READS: [string, string, keyof DiscoveryReader][] = [
  ['the Secret', 's', 'getSecret'],
  ['the auth config', 's', 'getExternalAuthConfig'],
  ['the CA ConfigMap', 'e', 'getConfigMap'],
];
const CASES = READS.flatMap(([read, name, method]) =>
  TRANSIENT.map(([kind, error]) => [read, kind, name, method, error] as const),
);

describe('a read that fails for a transient reason', () => {
  it.each(CASES)(
    'of %s (%s) keeps the served backend exactly as it is',
    async (_read, _kind, name, method, error) => {
      const { registry, reader, reconciler, decisions } = setup();
      await reconciler.reconcile(request(name));
      const served = registry.get(name);
      const version = registry.version;
      expect(served).toBeDefined();

      (reader as unknown as Record<string, () => Promise<never>>)[method] = async () => {
        throw error();
      };
      expect(await reconciler.reconcile(request(name))).toEqual({ requeue: true });
      expect(registry.get(name)).toEqual(served);
      expect(registry.version).toBe(version);
      expect(decisions.at(-1)).toMatchObject({ action: 'keep-and-retry' });
      expect(reconciler.failingRead(name)).toMatchObject({ name, served: true, attempts: 1 });
    },
  );

  it.each(CASES)(
    'of %s (%s) leaves a name not yet served absent',
    async (_read, _kind, name, method, error) => {
      const { registry, reader, reconciler } = setup();
      (reader as unknown as Record<string, () => Promise<never>>)[method] = async () => {
        throw error();
      };
      expect(await reconciler.reconcile(request(name))).toEqual({ requeue: true });
      expect(registry.get(name)).toBeUndefined();
      expect(registry.version).toBe(0);
      expect(reconciler.failingRead(name)).toMatchObject({
        served: false,
        lastResolvedAt: undefined,
      });
    },
  );

  it('is retried by the controller after a delay that doubles per failure, on its clock, and starts over once the read recovered', async () => {
    const { reader, reconciler } = setup();
    const clock = new FakeClock();
    let calls = 0;
    const controller = new Controller({
      name: 'backends',
      clock,
      reconcile: async (key) => {
        try {
          return await reconciler.reconcile(key);
        } finally {
          calls++;
        }
      },
    });
    const stop = new AbortController();
    const running = controller.start(stop.signal);
    const settled = (count: number) =>
      eventually(() => calls === count && controller.queue.processingCount === 0);
    const getSecret = reader.getSecret;
    reader.getSecret = async () => {
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    };
    controller.enqueue(request('s'));
    for (const [index, delay] of [5, 10, 20].entries()) {
      await settled(index + 1);
      expect(clock.timersDueIn()).toEqual([delay]);
      // One count of failures: the controller's backoff and the failing read's attempts.
      expect(reconciler.failingRead('s')?.attempts).toBe(index + 1);
      expect(controller.queue.numRequeues('tools/s')).toBe(index + 1);
      reader.getSecret = index === 2 ? getSecret : reader.getSecret;
      clock.advance(delay);
    }
    await settled(4);
    expect(reconciler.failingRead('s')).toBeUndefined();
    expect(controller.queue.numRequeues('tools/s')).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    reader.getSecret = async () => {
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    };
    controller.enqueue(request('s'));
    await settled(5);
    expect(clock.timersDueIn()).toEqual([5]);
    stop.abort();
    await running;
  });

  it('is logged once per name, not per retry, and says when the backend was last resolved', async () => {
    const { reader, reconciler, lines, now } = setup();
    await reconciler.reconcile(request('s'));
    const resolvedAt = now.value;
    reader.getSecret = async () => {
      throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
    };
    now.value += 60_000;
    for (let i = 0; i < 5; i++) await reconciler.reconcile(request('s'));
    const kept = lines.filter((line) => line.includes('keeping the backend as last resolved'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toContain(new Date(resolvedAt).toISOString());
    expect(reconciler.failingRead('s')).toEqual({
      name: 's',
      served: true,
      lastResolvedAt: resolvedAt,
      failingSince: resolvedAt + 60_000,
      cause: 'MCPExternalAuthConfig tools/auth: Secret tools/key could not be read (ECONNREFUSED)',
      reason: 'unavailable',
      attempts: 5,
    });
  });

  it('ends when a read succeeds again: the backend is resolved anew and the failure forgotten', async () => {
    const { registry, reader, reconciler, lines } = setup();
    await reconciler.reconcile(request('s'));
    const getSecret = reader.getSecret;
    reader.getSecret = async () => {
      throw Object.assign(new Error('down'), { code: 503 });
    };
    await reconciler.reconcile(request('s'));
    reader.getSecret = getSecret;
    expect(await reconciler.reconcile(request('s'))).toBeUndefined();
    expect(reconciler.failingReads()).toEqual([]);
    expect(registry.get('s')).toBeDefined();
    expect(lines.filter((line) => line.includes('read recovered'))).toHaveLength(1);
  });

  it('never carries a secret value: not in the failure, the logs or the explanation', async () => {
    const { reader, reconciler, lines } = setup();
    await reconciler.reconcile(request('s'));
    for (const [, error] of TRANSIENT) {
      reader.getSecret = async () => {
        throw error();
      };
      await reconciler.reconcile(request('s'));
    }
    const explanation = await reconciler.explain('s');
    expect(explanation.failing).toMatchObject({ served: true });
    const everything = JSON.stringify([reconciler.failingReads(), lines, explanation.failing]);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(Buffer.from(SECRET).toString('base64'));
  });
});

describe("a read refused to the watcher's own credentials or permission (401, 403)", () => {
  const REFUSALS = [
    ['401', 401, 'Unauthorized', 'unauthorized'],
    ['403', 403, 'Forbidden', 'forbidden'],
  ] as const;
  const refused = (code: number, reason: string) => async () => {
    throw Object.assign(new Error(`${reason} ${SECRET}`), { code, reason });
  };

  it.each(
    REFUSALS.flatMap((refusal) =>
      READS.map(([read, name, method]) => [...refusal, read, name, method] as const),
    ),
  )(
    '(%s) of %s keeps the served backend, retries, and says why once, as a warning',
    async (_label, code, reason, why, _read, name, method) => {
      const { registry, reader, reconciler, lines, decisions } = setup();
      await reconciler.reconcile(request(name));
      const served = registry.get(name);
      const version = registry.version;
      (reader as unknown as Record<string, () => Promise<never>>)[method] = refused(code, reason);
      for (let i = 0; i < 3; i++) {
        expect(await reconciler.reconcile(request(name))).toEqual({ requeue: true });
      }
      expect(registry.get(name)).toEqual(served);
      expect(registry.version).toBe(version);
      expect(decisions.at(-1)).toMatchObject({ action: 'keep-and-retry' });
      expect(reconciler.failingRead(name)).toMatchObject({
        served: true,
        reason: why,
        attempts: 3,
        cause: expect.stringContaining(`(${code} ${reason})`),
      });
      const warnings = lines.filter((line) => line.startsWith('warn read failing'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`"reason":"${why}"`);
      expect(JSON.stringify([lines, reconciler.failingReads()])).not.toContain(SECRET);
    },
  );

  it.each(REFUSALS)(
    '(%s) keeps a name not yet served absent, with a warning',
    async (_label, code, reason, why) => {
      const { registry, reader, reconciler, lines } = setup();
      reader.getSecret = refused(code, reason);
      expect(await reconciler.reconcile(request('s'))).toEqual({ requeue: true });
      expect(registry.get('s')).toBeUndefined();
      expect(registry.version).toBe(0);
      expect(reconciler.failingRead('s')).toMatchObject({ served: false, reason: why });
      expect(lines.filter((line) => line.startsWith('warn read failing'))).toHaveLength(1);
    },
  );

  it('is logged again when the reason changes (an outage, then a refusal)', async () => {
    const { reader, reconciler, lines } = setup();
    await reconciler.reconcile(request('s'));
    reader.getSecret = async () => {
      throw Object.assign(new Error('down'), { code: 503 });
    };
    await reconciler.reconcile(request('s'));
    reader.getSecret = refused(403, 'Forbidden');
    await reconciler.reconcile(request('s'));
    await reconciler.reconcile(request('s'));
    const kept = lines.filter((line) => line.includes('keeping the backend as last resolved'));
    expect(kept.map((line) => /"reason":"(\w+)"/.exec(line)?.[1])).toEqual([
      'unavailable',
      'forbidden',
    ]);
    expect(reconciler.failingRead('s')).toMatchObject({ attempts: 3, reason: 'forbidden' });
  });
});

describe('a read that fails for a definitive reason', () => {
  it.each([
    ['400', 400, 'BadRequest'],
    ['422', 422, 'Invalid'],
  ])('(%s) removes the served backend and throws to retry', async (_label, code, reason) => {
    const { registry, reader, reconciler } = setup();
    await reconciler.reconcile(request('s'));
    reader.getSecret = async () => {
      throw Object.assign(new Error(reason), { code, reason });
    };
    await expect(reconciler.reconcile(request('s'))).rejects.toThrow(`(${code} ${reason})`);
    expect(registry.get('s')).toBeUndefined();
    expect(reconciler.failingReads()).toEqual([]);
  });

  it('removes on a missing Secret (404 of the object) without retrying', async () => {
    const { registry, reader, reconciler } = setup();
    await reconciler.reconcile(request('s'));
    reader.getSecret = async () => undefined;
    expect(await reconciler.reconcile(request('s'))).toBeUndefined();
    expect(registry.get('s')).toBeUndefined();
  });
});
