/**
 * Faults against the real sidecar process (the built binary, the fake API server behind it):
 * SIGSTOP/SIGCONT, kill and restart, a connection cut in the middle of an event, a proxy that
 * buffers the stream, a wrong token. After each: the client's list equals the sidecar's within
 * the bound, its feed has no gap (every version, or a reset), and a value derived with
 * memoByVersion is the one for the sidecar's content.
 */
import { memoByVersion, type RegistryChange } from '@vmcp/registry';
import { expectNoGap, replay } from '@vmcp/registry/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRegistry, type RegistryClient, type RegistryClientOptions } from '../src/index.js';
import { FaultProxy } from './support/proxy.js';
import { SidecarCluster, type SidecarProcess, TOKEN } from './support/sidecar.js';

// The client's settings here, and the bound they give: once the sidecar answers again, a stall
// is noticed within the idle timeout (3 heartbeats of 300 ms), the next attempt starts within
// the backoff cap, and its first heartbeat arrives within the connect timeout.
const SETTINGS = {
  connectTimeoutMs: 2_000,
  backoff: { initialMs: 100, maxMs: 1_000 },
} satisfies Partial<RegistryClientOptions>;
const IDLE_MS = 3 * 300;
const CONVERGENCE_BOUND_MS = IDLE_MS + SETTINGS.backoff.maxMs + SETTINGS.connectTimeoutMs;
// What a busy 2-core machine adds to the bound (process scheduling, the sidecar's own catch-up
// with the API server): the assertion is the bound plus this, the measured time is printed.
const SCHEDULING_ALLOWANCE_MS = 15_000;

let cluster: SidecarCluster;
let sidecar: SidecarProcess;
beforeAll(async () => {
  cluster = await SidecarCluster.start();
  sidecar = await cluster.startSidecar();
  await cluster.put('seed-a');
  await cluster.put('seed-b');
  await cluster.sidecarHolds(sidecar);
});
afterAll(async () => {
  await cluster?.close();
});

/** A client, a recorder of its whole feed, and a derived value. */
async function follow(url: string, options: Partial<RegistryClientOptions> = {}) {
  const client = connectRegistry({ url, token: TOKEN, ...SETTINGS, ...options });
  const feed: RegistryChange[] = [];
  const recording = (async () => {
    for await (const change of client.changes()) feed.push(change);
  })();
  await client.ready;
  const derived = memoByVersion(client, () =>
    client.list().map((backend) => `${backend.id}=${backend.baseUrl}`),
  );
  return {
    client,
    feed,
    derived,
    async [Symbol.asyncDispose]() {
      await client.close();
      await recording;
    },
  };
}

/**
 * Waits until the client holds exactly the sidecar's registry (it must have stopped moving) and
 * returns how long that took.
 */
async function converged(client: RegistryClient, from: SidecarProcess): Promise<number> {
  const started = performance.now();
  const expected = await cluster.sidecarHolds(from);
  for (;;) {
    if (client.status().sidecarVersion === expected.version) break;
    if (performance.now() - started > CONVERGENCE_BOUND_MS + SCHEDULING_ALLOWANCE_MS) {
      throw new Error(
        `not converged: client at ${client.status().sidecarVersion}, sidecar at ${expected.version}`,
      );
    }
    await client.waitForChange(client.version, { timeoutMs: 100 });
  }
  const took = performance.now() - started;
  expect(client.list()).toEqual(expected.backends);
  return took;
}

/**
 * The feed starts with a reset, every change follows the previous by one version or is a reset
 * (the shared check of `@vmcp/registry/testing`), and replayed it gives the client's list.
 */
async function expectFeedReplays(
  feed: readonly RegistryChange[],
  client: RegistryClient,
): Promise<void> {
  // The recording loop runs on its own: let it read up to what the client holds.
  for (let i = 0; i < 500 && feed.at(-1)?.version !== client.version; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(feed[0]?.reset).toBe(true);
  expectNoGap(expect, 0, feed);
  expect(feed.at(-1)?.version).toBe(client.version);
  expect(replay([], feed)).toEqual(client.list());
}

async function expectDerivedCurrent(
  derived: () => Promise<string[]>,
  from: SidecarProcess,
): Promise<void> {
  const { backends } = await from.list();
  expect(await derived()).toEqual(backends.map((backend) => `${backend.id}=${backend.baseUrl}`));
}

describe('registry-client against the sidecar process', () => {
  it('rides out a paused sidecar (SIGSTOP, SIGCONT): last snapshot served, then converged', async () => {
    await using f = await follow(sidecar.url);
    const before = f.client.list();
    process.kill(sidecar.pid, 'SIGSTOP');
    try {
      await cluster.put('during-pause');
      // Longer than the idle timeout: the client notices the silence while the data stays put.
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 3));
      expect(f.client.list()).toBe(before);
    } finally {
      process.kill(sidecar.pid, 'SIGCONT');
    }
    const took = await converged(f.client, sidecar);
    console.info(`SIGSTOP/SIGCONT: converged ${Math.round(took)} ms after SIGCONT`);
    expect(f.client.status().reconnects.stall).toBeGreaterThanOrEqual(1);
    expect(f.client.get('during-pause')).toBeDefined();
    await expectFeedReplays(f.feed, f.client);
    await expectDerivedCurrent(f.derived, sidecar);
  });

  it('takes a killed and restarted sidecar as a reset, serving the last snapshot meanwhile', async () => {
    await using f = await follow(sidecar.url);
    const before = f.client.list();
    const port = new URL(sidecar.url).port;
    await sidecar.kill();
    await cluster.put('while-down');
    await cluster.remove('seed-a');
    expect(f.client.list()).toBe(before);
    sidecar = await cluster.startSidecar(Number(port));
    const took = await converged(f.client, sidecar);
    console.info(`kill and restart: converged ${Math.round(took)} ms after the restart was ready`);
    expect(f.client.status().resets).toBe(1);
    expect(f.feed.at(-1)?.reset).toBe(true);
    expect(f.client.get('seed-a')).toBeUndefined();
    await expectFeedReplays(f.feed, f.client);
    await expectDerivedCurrent(f.derived, sidecar);
  });

  it('resumes a connection cut in the middle of an event without a gap or a reset', async () => {
    await using proxy = await FaultProxy.start(sidecar.url);
    await using f = await follow(proxy.url);
    const cut = proxy.cutMidEvent();
    await cluster.put('cut-1');
    await cut;
    await cluster.put('cut-2');
    const took = await converged(f.client, sidecar);
    console.info(`cut mid-event: converged ${Math.round(took)} ms after the change`);
    expect(f.client.status().reconnects.ended).toBe(1);
    expect(f.client.status().resets).toBe(0);
    expect(f.feed.filter((change) => change.reset)).toHaveLength(1);
    await expectFeedReplays(f.feed, f.client);
    await expectDerivedCurrent(f.derived, sidecar);
  });

  it('falls back to the long-poll behind a proxy that buffers the stream, and follows it', async () => {
    await using proxy = await FaultProxy.start(sidecar.url);
    proxy.bufferStreams = true;
    await using f = await follow(proxy.url, { connectTimeoutMs: 1_000 });
    expect(f.client.status().transport).toBe('long-poll');
    await cluster.put('polled-1');
    await cluster.remove('polled-1');
    await cluster.put('polled-2');
    const took = await converged(f.client, sidecar);
    console.info(`buffering proxy: converged ${Math.round(took)} ms after the changes`);
    expect(f.client.status()).toMatchObject({ phase: 'polling', transport: 'long-poll' });
    await expectFeedReplays(f.feed, f.client);
    await expectDerivedCurrent(f.derived, sidecar);
  });

  it('fails at once on a wrong token, without retrying', async () => {
    await using client = connectRegistry({ url: sidecar.url, token: 'not-the-token', ...SETTINGS });
    await expect(client.ready).rejects.toMatchObject({ reason: 'Unauthorized', status: 401 });
    expect(client.status()).toMatchObject({ phase: 'failed', reconnects: {} });
  });
});

describe('registry-client under random changes and faults (property)', () => {
  type Step = { kind: 'put' | 'remove'; name: string } | { kind: 'drop' | 'cut' | 'pause' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('put' as const),
        name: fc.constantFrom('p-a', 'p-b', 'p-c'),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('remove' as const),
        name: fc.constantFrom('p-a', 'p-b', 'p-c'),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constantFrom('drop' as const, 'cut' as const, 'pause' as const),
      }),
    },
  );

  it('converges after any sequence, and its feed replays to the sidecar state', async () => {
    await using proxy = await FaultProxy.start(sidecar.url);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        await using f = await follow(proxy.url);
        for (const s of steps) {
          if (s.kind === 'put') await cluster.put(s.name);
          else if (s.kind === 'remove') await cluster.remove(s.name);
          else if (s.kind === 'drop') proxy.dropAll();
          else if (s.kind === 'cut') {
            const cut = proxy.cutMidEvent();
            await cluster.put('p-cut');
            await Promise.race([cut, new Promise((resolve) => setTimeout(resolve, 2_000))]);
          } else {
            process.kill(sidecar.pid, 'SIGSTOP');
            await new Promise((resolve) => setTimeout(resolve, 400));
            process.kill(sidecar.pid, 'SIGCONT');
          }
        }
        await converged(f.client, sidecar);
        await expectFeedReplays(f.feed, f.client);
        await expectDerivedCurrent(f.derived, sidecar);
      }),
      { numRuns: 6 },
    );
  }, 180_000);
});
