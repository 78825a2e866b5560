import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Manager } from '../src/manager.js';
import type { KubeObject, ObjectKey } from '../src/types.js';
import { FakeInformer, object } from './fake-informer.js';

const byName = (o: KubeObject): ObjectKey[] => [
  { namespace: o.metadata.namespace as string, name: o.metadata.name as string },
];

describe('Manager', () => {
  it('reports not synced before start', async () => {
    const manager = new Manager();
    manager.addInformer(new FakeInformer());
    expect(await manager.waitForCacheSync({ timeoutMs: 10 })).toBe(false);
    expect((await manager.readyz()).ok).toBe(false);
  });

  it('becomes ready once every informer synced, and times out before that', async () => {
    const a = new FakeInformer('A');
    const b = new FakeInformer('B');
    const manager = new Manager().addInformer(a).addInformer(b);
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    a.sync();
    expect(await manager.waitForCacheSync({ timeoutMs: 20 })).toBe(false);
    expect((await manager.readyz()).ok).toBe(false);
    b.sync();
    expect(await manager.waitForCacheSync({ timeoutMs: 1000 })).toBe(true);
    expect(await manager.readyz()).toEqual({ ok: true, checks: { 'informers-synced': true } });
    expect((await manager.healthz()).ok).toBe(true);
    stop.abort();
    await running;
    expect((await manager.healthz()).ok).toBe(false);
  });

  it('returns false from waitForCacheSync when its signal aborts', async () => {
    const manager = new Manager().addInformer(new FakeInformer());
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    const waiting = new AbortController();
    const result = manager.waitForCacheSync({ signal: waiting.signal });
    waiting.abort();
    expect(await result).toBe(false);
    stop.abort();
    await running;
  });

  it('refuses a second start', async () => {
    const manager = new Manager();
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    await expect(manager.start(stop.signal)).rejects.toThrow('manager already started');
    stop.abort();
    await running;
  });

  it('runs controllers and records controller-runtime metrics', async () => {
    const registry = new Registry();
    const manager = new Manager({ metricsRegistry: registry });
    const informer = new FakeInformer();
    manager.addInformer(informer);
    const reconciled: string[] = [];
    manager
      .createController({
        name: 'backends',
        reconcile: ({ name }) => {
          reconciled.push(name);
          if (name === 'bad') throw new Error('nope');
        },
      })
      .watches(informer, byName);
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    informer.sync([object('a'), object('bad')]);
    await manager.waitForCacheSync();
    while (!reconciled.includes('bad') || !reconciled.includes('a')) {
      await new Promise((r) => setTimeout(r, 5));
    }
    manager.metrics.watch.relist('mcpservers');
    manager.metrics.watch.restart('mcpservers', 'gone');
    const text = await registry.metrics();
    for (const name of [
      'controller_runtime_reconcile_total{controller="backends",result="success"} 1',
      'controller_runtime_reconcile_errors_total{controller="backends"}',
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth{name="backends"}',
      'workqueue_adds_total{name="backends"}',
      'workqueue_queue_duration_seconds_bucket',
      'workqueue_work_duration_seconds_bucket',
      'workqueue_retries_total{name="backends"}',
      'workqueue_unfinished_work_seconds{name="backends"}',
      'workqueue_longest_running_processor_seconds{name="backends"}',
      'vmcp_watch_relists_total{resource="mcpservers"} 1',
      'vmcp_watch_restarts_total{resource="mcpservers",reason="gone"} 1',
    ]) {
      expect(text).toContain(name);
    }
    stop.abort();
    await running;
  });

  it('keeps the metrics of two managers apart', () => {
    const one = new Manager();
    const two = new Manager();
    expect(one.metricsRegistry).not.toBe(two.metricsRegistry);
    one.createController({ name: 'same', reconcile: () => undefined });
    two.createController({ name: 'same', reconcile: () => undefined });
  });
});
