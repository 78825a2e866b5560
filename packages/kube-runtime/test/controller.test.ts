import { eventually } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock.js';
import {
  Controller,
  type ControllerMetrics,
  type Reconciler,
  TerminalError,
} from '../src/controller.js';
import { ItemExponentialFailureRateLimiter } from '../src/ratelimiter.js';
import { type KubeObject, type ObjectKey, silentLogger } from '../src/types.js';
import { FakeInformer, object } from './fake-informer.js';

const byName = (o: KubeObject): ObjectKey[] => [
  { namespace: o.metadata.namespace as string, name: o.metadata.name as string },
];
const inGroup = (group: string) => (o: KubeObject) =>
  (o.spec as { group?: string }).group === group ? byName(o) : [];

function setup(reconcile: Reconciler, options: { workers?: number } = {}) {
  const informer = new FakeInformer();
  const controller = new Controller({
    name: 'test',
    reconcile,
    maxConcurrentReconciles: options.workers ?? 1,
    rateLimiter: new ItemExponentialFailureRateLimiter(1, 20),
    gracefulShutdownTimeoutMs: 200,
  });
  const stop = new AbortController();
  return { informer, controller, stop };
}

describe('Controller', () => {
  it('does not reconcile before the informers synced, then reconciles the initial objects', async () => {
    const seen: string[] = [];
    const { informer, controller, stop } = setup(({ name }) => {
      seen.push(name);
    });
    controller.watches(informer, byName);
    const running = controller.start(stop.signal);
    informer.add(object('early'));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
    informer.sync([object('a')]);
    await eventually(() => seen.length === 2);
    expect(seen.sort()).toEqual(['a', 'early']);
    stop.abort();
    await running;
  });

  it('maps both the old and the new object of an update', async () => {
    const seen: string[] = [];
    const { informer, controller, stop } = setup(({ name }) => {
      seen.push(name);
    });
    controller.watches(informer, inGroup('mine'));
    informer.sync([object('moving', { group: 'mine' })]);
    const running = controller.start(stop.signal);
    await eventually(() => seen.length === 1);
    // Moves out of the group: only the old object matches the filter, and it still enqueues.
    informer.update(object('moving', { group: 'other' }));
    await eventually(() => seen.length === 2);
    // Further changes in the other group enqueue nothing.
    informer.update(object('moving', { group: 'other', x: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['moving', 'moving']);
    stop.abort();
    await running;
  });

  it('enqueues on delete', async () => {
    const seen: string[] = [];
    const { informer, controller, stop } = setup(({ name }) => {
      seen.push(name);
    });
    controller.watches(informer, byName);
    informer.sync();
    const running = controller.start(stop.signal);
    informer.remove(object('gone'));
    await eventually(() => seen.includes('gone'));
    stop.abort();
    await running;
  });

  it('hands a cluster-scoped object to reconcile with an empty namespace', async () => {
    const seen: ObjectKey[] = [];
    const { informer, controller, stop } = setup((request) => {
      seen.push(request);
    });
    controller.watches(informer, (o) => [{ namespace: '', name: o.metadata.name as string }]);
    informer.sync([object('global')]);
    const running = controller.start(stop.signal);
    await eventually(() => seen.length === 1);
    expect(seen).toEqual([{ namespace: '', name: 'global' }]);
    stop.abort();
    await running;
  });

  it('requeues after requeueAfterMs', async () => {
    let calls = 0;
    const { informer, controller, stop } = setup(() => {
      calls++;
      return calls === 1 ? { requeueAfterMs: 10 } : undefined;
    });
    controller.watches(informer, byName);
    informer.sync([object('a')]);
    const running = controller.start(stop.signal);
    await eventually(() => calls === 2);
    stop.abort();
    await running;
  });

  it('requeues { requeue: true } after the rate limiter delay, growing, on its clock, and resets once done', async () => {
    const clock = new FakeClock();
    const results: string[] = [];
    const errors: unknown[] = [];
    const metrics: ControllerMetrics = { reconcile: (result) => results.push(result) };
    const answers: ({ requeue: true } | undefined)[] = [
      { requeue: true },
      { requeue: true },
      { requeue: true },
      undefined,
      { requeue: true },
    ];
    let calls = 0;
    const controller = new Controller({
      name: 'test',
      clock,
      metrics,
      reconcile: () => answers[calls++],
      logger: { ...silentLogger, error: (fields: unknown) => errors.push(fields) },
    });
    const stop = new AbortController();
    const running = controller.start(stop.signal);
    const settled = async (count: number) => {
      await eventually(() => calls === count && controller.queue.processingCount === 0);
    };
    controller.enqueue({ namespace: 'default', name: 'a' });
    // The default rate limiter on the controller's clock: 5 ms, doubling per requeue.
    for (const [index, delay] of [5, 10, 20].entries()) {
      await settled(index + 1);
      expect(clock.timersDueIn()).toEqual([delay]);
      expect(controller.queue.numRequeues('default/a')).toBe(index + 1);
      clock.advance(delay);
    }
    await settled(4);
    expect(controller.queue.numRequeues('default/a')).toBe(0);
    controller.enqueue({ namespace: 'default', name: 'a' });
    await settled(5);
    expect(clock.timersDueIn()).toEqual([5]);
    expect(results).toEqual(['requeue', 'requeue', 'requeue', 'success', 'requeue']);
    expect(errors).toEqual([]);
    stop.abort();
    await running;
  });

  it('retries a failing reconcile with backoff until it succeeds, then forgets', async () => {
    let calls = 0;
    const { informer, controller, stop } = setup(() => {
      calls++;
      if (calls < 4) throw new Error('transient');
    });
    controller.watches(informer, byName);
    informer.sync([object('a')]);
    const running = controller.start(stop.signal);
    await eventually(() => calls === 4);
    await eventually(() => controller.queue.numRequeues('default/a') === 0);
    stop.abort();
    await running;
  });

  it('does not retry a terminal error', async () => {
    let calls = 0;
    const { informer, controller, stop } = setup(() => {
      calls++;
      throw new TerminalError('cannot be fixed by retrying');
    });
    controller.watches(informer, byName);
    informer.sync([object('a')]);
    const running = controller.start(stop.signal);
    await eventually(() => calls === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
    stop.abort();
    await running;
  });

  it('runs up to maxConcurrentReconciles at once and never the same key twice at once', async () => {
    let running = 0;
    let peak = 0;
    const active = new Set<string>();
    let overlaps = 0;
    let calls = 0;
    const { informer, controller, stop } = setup(
      async ({ name }) => {
        calls++;
        if (active.has(name)) overlaps++;
        active.add(name);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        active.delete(name);
      },
      { workers: 3 },
    );
    controller.watches(informer, byName);
    informer.sync();
    const done = controller.start(stop.signal);
    // A storm: 10 keys, each updated many times while being reconciled.
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 10; i++) informer.update(object(`k${i}`, { round }));
      await new Promise((r) => setTimeout(r, 1));
    }
    await eventually(() => controller.queue.len() === 0 && running === 0);
    expect(overlaps).toBe(0);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect(calls).toBeGreaterThanOrEqual(10);
    stop.abort();
    await done;
  });

  it('lets an in-flight reconcile finish on stop', async () => {
    let finished = false;
    let started = false;
    const { informer, controller, stop } = setup(async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 50));
      finished = true;
    });
    controller.watches(informer, byName);
    informer.sync([object('a')]);
    const running = controller.start(stop.signal);
    await eventually(() => started);
    stop.abort();
    await running;
    expect(finished).toBe(true);
  });

  it('aborts a reconcile that outlives the grace period', async () => {
    let sawAbort = false;
    const { informer, controller, stop } = setup(async (_request, { signal }) => {
      await new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          sawAbort = true;
          resolve();
        }),
      );
    });
    controller.watches(informer, byName);
    informer.sync([object('a')]);
    const running = controller.start(stop.signal);
    await eventually(() => controller.queue.processingCount === 1);
    stop.abort();
    await running;
    expect(sawAbort).toBe(true);
  });

  it('keeps going when a map function throws', async () => {
    const seen: string[] = [];
    const { informer, controller, stop } = setup(({ name }) => {
      seen.push(name);
    });
    controller.watches(informer, (o) => {
      if (o.metadata.name === 'bad') throw new Error('boom');
      return byName(o);
    });
    informer.sync([object('bad'), object('good')]);
    const running = controller.start(stop.signal);
    await eventually(() => seen.includes('good'));
    stop.abort();
    await running;
  });

  it('refuses a second start', async () => {
    const { informer, controller, stop } = setup(() => undefined);
    controller.watches(informer, byName);
    informer.sync();
    const running = controller.start(stop.signal);
    await expect(controller.start(stop.signal)).rejects.toThrow(/already started/);
    stop.abort();
    await running;
  });
});
