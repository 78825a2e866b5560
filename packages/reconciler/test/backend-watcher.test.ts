import { KubeConfig } from '@kubernetes/client-node';
import { createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import {
  BackendWatcher,
  type BackendWatcherOptions,
  DURATION_RANGES,
  jitteredResyncMs,
  parseGroupRef,
  WORKERS_RANGE,
} from '../src/index.js';

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

const HOUR = 3_600_000;

describe('BackendWatcher durations', () => {
  const options = [
    'resyncPeriodMs',
    'readTimeoutMs',
    'secretRefreshPeriodMs',
    'initialSyncTimeoutMs',
    'gracefulShutdownTimeoutMs',
  ] as const;

  it.each(options)('accepts %s at the limits of its range', (option) => {
    const { min: minMs, max: maxMs } = DURATION_RANGES[option];
    expect(() => new BackendWatcher({ ...valid(), [option]: minMs })).not.toThrow();
    expect(() => new BackendWatcher({ ...valid(), [option]: maxMs })).not.toThrow();
  });

  it.each(
    options.flatMap((option) => {
      const { min: minMs, max: maxMs } = DURATION_RANGES[option];
      return [
        [option, minMs > 1 ? minMs - 1 : -1, 'is below the minimum'],
        [option, maxMs + 1, 'is above the maximum'],
        [option, Number.NaN, 'is not a finite number'],
        [option, -1, 'is below the minimum'],
        [option, Number.POSITIVE_INFINITY, 'is not a finite number'],
      ] as const;
    }),
  )('refuses %s %d with a RangeError naming it', (option, value, problem) => {
    expect(() => new BackendWatcher({ ...valid(), [option]: value })).toThrow(RangeError);
    expect(() => new BackendWatcher({ ...valid(), [option]: value })).toThrow(
      `${option} ${value} ${problem}`,
    );
  });

  it.each([0, 65, 2.5, Number.NaN, 1e9, Number.POSITIVE_INFINITY])(
    'refuses workers %d with a RangeError naming it (NaN would start none, 1e9 a billion)',
    (workers) => {
      expect(() => new BackendWatcher({ ...valid(), workers })).toThrow(
        `workers ${workers} is not a whole number from 1 to 64`,
      );
    },
  );

  it('accepts workers 1 to 64', () => {
    expect(WORKERS_RANGE).toEqual({ min: 1, max: 64 });
    expect(() => new BackendWatcher({ ...valid(), workers: 1 })).not.toThrow();
    expect(() => new BackendWatcher({ ...valid(), workers: 64 })).not.toThrow();
  });

  it('turns the resync off with 0 and states it below the minimum', () => {
    expect(() => new BackendWatcher({ ...valid(), resyncPeriodMs: 0 })).not.toThrow();
    expect(() => new BackendWatcher({ ...valid(), resyncPeriodMs: 50 })).toThrow(
      'resyncPeriodMs 50 is below the minimum of 100 (100ms; 0 turns it off)',
    );
  });

  it('refuses watch options out of range when it is made, not when it starts', () => {
    expect(() => new BackendWatcher({ ...valid(), watcher: { stallTimeoutMs: 0 } })).toThrow(
      'stallTimeoutMs 0 is below the minimum',
    );
    expect(
      () => new BackendWatcher({ ...valid(), watcher: { backoff: { maxMs: 10 * HOUR } } }),
    ).toThrow('backoff.maxMs 36000000 is above the maximum of 3600000 (1h)');
  });

  it.each(['waitForCacheSync', 'waitForRegistrySync'] as const)(
    'refuses a %s timeout out of range, started or not',
    async (wait) => {
      await expect(new BackendWatcher(valid())[wait]({ timeoutMs: Number.NaN })).rejects.toThrow(
        'timeoutMs NaN is not a finite number',
      );
    },
  );

  it('resyncs once per 720 h period on Node timers, instead of every millisecond', async () => {
    // Node's timers (faked here as they behave: a delay above 2^31-1 ms fires after 1 ms) are what
    // the watcher's default clock schedules on. A resync reads the registry's list once.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const registry = createDynamicRegistry();
      const resyncs = vi.spyOn(registry, 'list');
      const watcher = new BackendWatcher({
        ...valid(),
        registry,
        resyncPeriodMs: 720 * HOUR,
        random: () => 1, // the longest jitter: 792 h
        watcher: { backoff: { initialMs: HOUR, maxMs: HOUR } },
      });
      const stop = new AbortController();
      const running = watcher.start(stop.signal);
      vi.advanceTimersByTime(13_000);
      expect(resyncs).not.toHaveBeenCalled();
      const period = jitteredResyncMs(720 * HOUR, () => 1);
      vi.advanceTimersByTime(period - 13_000 - 1);
      expect(resyncs).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(resyncs).toHaveBeenCalledTimes(1);
      stop.abort();
      vi.useRealTimers();
      await running;
    } finally {
      vi.useRealTimers();
    }
  });
});
