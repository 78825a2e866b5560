import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RuntimeMetrics } from '../src/metrics.js';
import { WorkQueue } from '../src/workqueue.js';

/** The value of one sample line of the registry's text output, or undefined when absent. */
async function sample(registry: Registry, line: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('RuntimeMetrics', () => {
  it('counts queue adds and reconciles by result, the same totals whenever scraped', async () => {
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    const controller = metrics.forController('q');
    const adds = 'workqueue_adds_total{name="q"}';
    const successes = 'controller_runtime_reconcile_total{controller="q",result="success"}';
    const errors = 'controller_runtime_reconcile_total{controller="q",result="error"}';
    expect(await sample(registry, adds)).toBeUndefined();
    controller.queue?.add?.();
    controller.queue?.add?.();
    controller.reconcile?.('success', 0.01);
    expect(await sample(registry, adds)).toBe(2);
    expect(await sample(registry, successes)).toBe(1);
    expect(await sample(registry, errors)).toBeUndefined();
    // Scraped again without new counts: the same totals.
    expect(await sample(registry, adds)).toBe(2);
    controller.queue?.add?.();
    controller.reconcile?.('success', 0.01);
    controller.reconcile?.('error', 0.01);
    expect(await sample(registry, adds)).toBe(3);
    expect(await sample(registry, successes)).toBe(2);
    expect(await sample(registry, errors)).toBe(1);
    expect(
      await sample(registry, 'controller_runtime_reconcile_errors_total{controller="q"}'),
    ).toBe(1);
    expect(
      await sample(registry, 'controller_runtime_reconcile_time_seconds_count{controller="q"}'),
    ).toBe(3);
  });

  it('reports the depth of a controller queue and the last event time of a resource', async () => {
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    const queue = new WorkQueue<string>({ metrics: metrics.forController('q').queue });
    metrics.trackQueue('q', queue);
    queue.add('a');
    queue.add('b');
    expect(await sample(registry, 'workqueue_depth{name="q"}')).toBe(2);
    expect(await sample(registry, 'workqueue_adds_total{name="q"}')).toBe(2);
    await queue.get();
    expect(await sample(registry, 'workqueue_depth{name="q"}')).toBe(1);
    const before = Date.now() / 1000;
    metrics.watch.event('things');
    const at = await sample(registry, 'vmcp_watch_last_event_timestamp_seconds{resource="things"}');
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now() / 1000);
  });
});
