import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
    expect(manager.metricsRegistry).toBe(registry);
    manager.metrics?.watch.relist('mcpservers');
    manager.metrics?.watch.restart('mcpservers', 'gone');
    manager.metrics?.watch.skipped?.('mcpservers');
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
      'vmcp_watch_objects_skipped_total{resource="mcpservers"} 1',
    ]) {
      expect(text).toContain(name);
    }
    stop.abort();
    await running;
  });

  it('keeps the metrics of two managers apart', async () => {
    const one = new Manager({ metricsRegistry: new Registry() });
    const two = new Manager({ metricsRegistry: new Registry() });
    one.createController({ name: 'same', reconcile: () => undefined });
    two.createController({ name: 'same', reconcile: () => undefined });
    one.metrics?.watch.relist('things');
    expect(await one.metricsRegistry?.metrics()).toContain(
      'vmcp_watch_relists_total{resource="things"} 1',
    );
    expect(await two.metricsRegistry?.metrics()).not.toContain('resource="things"');
  });

  it('records no metrics without a registry, and runs all the same', async () => {
    const manager = new Manager();
    expect(manager.metrics).toBeUndefined();
    expect(manager.metricsRegistry).toBeUndefined();
    const informer = new FakeInformer();
    const reconciled: string[] = [];
    manager
      .addInformer(informer)
      .createController({ name: 'quiet', reconcile: ({ name }) => void reconciled.push(name) })
      .watches(informer, byName);
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    informer.sync([object('a')]);
    await expect.poll(() => reconciled).toEqual(['a']);
    stop.abort();
    await running;
  });

  it('does not load prom-client for a program that records no metrics', async () => {
    // A fresh process: which modules are loaded is process-wide, and this worker has prom-client.
    const probe = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
      const { Manager } = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)});
      const { readonlyStoreOf } = await import(${JSON.stringify(new URL('../src/testing.ts', import.meta.url).href)});
      new Manager().createController({ name: 'c', reconcile: () => undefined });
      readonlyStoreOf([]);
      const before = loaded.filter((url) => url.includes('/prom-client/')).length;
      const { Registry } = await import('prom-client');
      new Manager({ metricsRegistry: new Registry() });
      console.log(JSON.stringify({ before, after: loaded.filter((url) => url.includes('/prom-client/')).length }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      // tsx resolves the sources' `.js` specifiers to their `.ts` files.
      ['--import', 'tsx', '--input-type=module', '--no-warnings', '-e', probe],
      { cwd: fileURLToPath(new URL('..', import.meta.url)) },
    );
    const { before, after } = JSON.parse(stdout.trim());
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  });
});
