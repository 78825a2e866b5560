import { KubeConfig } from '@kubernetes/client-node';
import { createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BackendWatcher, type BackendWatcherOptions, parseGroupRef } from '../src/index.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const valid = (): BackendWatcherOptions => ({
  kubeConfig,
  namespace: 'tools',
  groupRef: 'engineering',
  registry: createDynamicRegistry(),
});

describe('BackendWatcher construction', () => {
  it.each([
    [
      'a missing kubeConfig',
      { kubeConfig: undefined as unknown as KubeConfig },
      /kubeConfig cannot be empty/,
    ],
    ['an empty namespace', { namespace: '' }, /namespace cannot be empty/],
    ['an empty groupRef', { groupRef: '' }, /groupRef cannot be empty/],
    [
      'a missing registry',
      { registry: undefined as unknown as DynamicRegistry },
      /registry cannot be empty/,
    ],
    [
      'a groupRef in another namespace',
      { groupRef: 'other/engineering' },
      /names namespace "other"/,
    ],
    ['a malformed groupRef', { groupRef: 'a/b/c' }, /is not "name" or "namespace\/name"/],
  ])('rejects %s', (_what, override, message) => {
    expect(() => new BackendWatcher({ ...valid(), ...override })).toThrow(message);
  });

  it('accepts valid inputs, in both groupRef forms', () => {
    expect(new BackendWatcher(valid()).group).toBe('engineering');
    expect(new BackendWatcher({ ...valid(), groupRef: 'tools/engineering' }).group).toBe(
      'engineering',
    );
    expect(parseGroupRef('g', 'ns')).toBe('g');
  });

  it('reports not synced before start', async () => {
    expect(await new BackendWatcher(valid()).waitForCacheSync({ timeoutMs: 10 })).toBe(false);
  });

  it('refuses a second start and stops when its signal aborts', async () => {
    const watcher = new BackendWatcher({
      ...valid(),
      watcher: { backoff: { initialMs: 10, maxMs: 50 } },
    });
    const stop = new AbortController();
    const running = watcher.start(stop.signal);
    await expect(watcher.start(stop.signal)).rejects.toThrow('watcher already started');
    expect(watcher.isAlive()).toBe(true);
    stop.abort();
    await running;
    expect(watcher.isAlive()).toBe(false);
  });

  it('records metrics only into a registry it is given', async () => {
    expect(new BackendWatcher(valid()).metricsRegistry).toBeUndefined();
    const metricsRegistry = new Registry();
    const watcher = new BackendWatcher({ ...valid(), metricsRegistry });
    expect(watcher.metricsRegistry).toBe(metricsRegistry);
    const names = (await metricsRegistry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'vmcp_backend_shadowed_total',
        'vmcp_backend_skipped_total',
        'vmcp_watch_relists_total',
        'controller_runtime_reconcile_total',
      ]),
    );
  });
});
