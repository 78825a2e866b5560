import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/backoff.js';
import { KubeClient, ResourceClient } from '../src/client.js';
import { chainedClock, FakeClock, MAX_TIMER_DELAY_MS } from '../src/clock.js';
import { Controller } from '../src/controller.js';
import { checkDuration, DurationRangeError, formatDuration } from '../src/duration.js';
import { createInformer } from '../src/informer.js';
import { Manager } from '../src/manager.js';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter } from '../src/ratelimiter.js';
import { watcherSettings } from '../src/watcher.js';
import { WorkQueue } from '../src/workqueue.js';
import { FakeInformer } from './fake-informer.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('checkDuration', () => {
  const range = { min: 100, max: 720 * HOUR };

  it.each([
    [100, 100],
    [720 * HOUR, 720 * HOUR],
    [5_000, 5_000],
  ])('accepts %d within the range, the limits included', (value, expected) => {
    expect(checkDuration('periodMs', value, range)).toBe(expected);
  });

  it.each([
    [99, 'periodMs 99 is below the minimum of 100 (100ms)'],
    [-1, 'periodMs -1 is below the minimum of 100 (100ms)'],
    [1e12, 'periodMs 1000000000000 is above the maximum of 2592000000 (720h)'],
    [Number.NaN, 'periodMs NaN is not a finite number of milliseconds'],
    [Number.POSITIVE_INFINITY, 'periodMs Infinity is not a finite number of milliseconds'],
    ['5000', 'periodMs "5000" is not a finite number of milliseconds'],
    [null, 'periodMs null is not a finite number of milliseconds'],
  ])(
    'refuses %s with a RangeError naming the option, the value and the limit',
    (value, message) => {
      const error = (() => {
        try {
          checkDuration('periodMs', value, range);
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(error).toBeInstanceOf(RangeError);
      expect(error).toBeInstanceOf(DurationRangeError);
      expect((error as Error).message).toBe(message);
    },
  );

  it('says what is wrong in command-line words as `problem`', () => {
    expect(() => checkDuration('--resync-period', 1e12, range)).toThrow(
      expect.objectContaining({ problem: 'is above the maximum of 720h' }),
    );
  });

  it('accepts 0 only where it turns the option off, and says so below the minimum', () => {
    expect(checkDuration('periodMs', 0, { ...range, off: true })).toBe(0);
    expect(() => checkDuration('periodMs', 0, range)).toThrow(/below the minimum/);
    expect(() => checkDuration('periodMs', 50, { ...range, off: true })).toThrow(
      'periodMs 50 is below the minimum of 100 (100ms; 0 turns it off)',
    );
  });

  it('gives the fallback for an option left out, and checks one given', () => {
    expect(checkDuration('periodMs', undefined, range, 3000)).toBe(3000);
    expect(() => checkDuration('periodMs', undefined, range)).toThrow(/not a finite number/);
  });

  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [720 * HOUR, '720h'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

/** A timer source that records what it is asked and fires only when told to. */
function fakeTimers() {
  const pending: { ms: number; callback: () => void; cancelled: boolean }[] = [];
  const source = (ms: number, callback: () => void) => {
    const timer = { ms, callback, cancelled: false };
    pending.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  /** Fires the oldest live timer; returns the delay it was set for. */
  const fire = (): number => {
    const timer = pending.filter((t) => !t.cancelled).shift();
    if (timer === undefined) throw new Error('no timer pending');
    pending.splice(pending.indexOf(timer), 1);
    timer.callback();
    return timer.ms;
  };
  const live = () => pending.filter((t) => !t.cancelled).map((t) => t.ms);
  return { source, fire, live };
}

describe('the real clock', () => {
  it('waits a delay longer than a Node timer allows as a chain of timers, then fires once', () => {
    const timers = fakeTimers();
    const clock = chainedClock(timers.source, () => 0);
    let fired = 0;
    const delay = 792 * HOUR; // a 720 h resync jittered by ×1.1
    clock.setTimer(delay, () => fired++);
    const waited: number[] = [];
    while (timers.live().length > 0) waited.push(timers.fire());
    expect(waited.every((ms) => ms <= MAX_TIMER_DELAY_MS)).toBe(true);
    expect(waited.reduce((a, b) => a + b, 0)).toBe(delay);
    expect(waited).toHaveLength(2);
    expect(fired).toBe(1);
  });

  it('cancels a chained delay part way through', () => {
    const timers = fakeTimers();
    const clock = chainedClock(timers.source, () => 0);
    let fired = 0;
    const cancel = clock.setTimer(3 * MAX_TIMER_DELAY_MS, () => fired++);
    timers.fire();
    cancel();
    expect(timers.live()).toEqual([]);
    expect(fired).toBe(0);
  });

  it('schedules a short delay as one timer, NaN and negative as 0, and Infinity never', () => {
    const timers = fakeTimers();
    const clock = chainedClock(timers.source, () => 0);
    for (const ms of [5, Number.NaN, -10, Number.POSITIVE_INFINITY]) clock.setTimer(ms, () => {});
    expect(timers.live()).toEqual([5, 0, 0]);
  });

  it('is the FakeClock contract too: NaN is now, Infinity never', () => {
    const clock = new FakeClock();
    let fired = 0;
    clock.setTimer(Number.NaN, () => fired++);
    clock.setTimer(Number.POSITIVE_INFINITY, () => fired++);
    clock.advance(10 * DAY);
    expect(fired).toBe(1);
  });
});

const kubeConfig = (() => {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: 'http://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config;
})();
const resource = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };

/**
 * Every duration option of the package with its stated range, and how to give it a value. A
 * value is accepted when `apply` neither throws nor rejects with a RangeError.
 */
const OPTIONS: {
  option: string;
  minMs: number;
  maxMs: number;
  apply: (ms: number) => unknown;
}[] = [
  {
    option: 'backoff.initialMs',
    minMs: 1,
    maxMs: 30_000,
    apply: (ms) => new Backoff({ initialMs: ms }),
  },
  {
    option: 'backoff.maxMs',
    minMs: 1,
    maxMs: HOUR,
    apply: (ms) => new Backoff({ maxMs: ms, initialMs: 1 }),
  },
  {
    option: 'backoff.resetAfterMs',
    minMs: 0,
    maxMs: DAY,
    apply: (ms) => new Backoff({ resetAfterMs: ms }),
  },
  {
    option: 'stallTimeoutMs',
    minMs: 1,
    maxMs: DAY,
    apply: (ms) => watcherSettings({ stallTimeoutMs: ms }),
  },
  {
    option: 'stallTimeoutMs',
    minMs: 1,
    maxMs: DAY,
    apply: (ms) => createInformer({ kubeConfig, resource, watcher: { stallTimeoutMs: ms } }),
  },
  {
    option: 'getTimeoutMs',
    minMs: 1,
    maxMs: 600_000,
    apply: (ms) =>
      new ResourceClient(new KubeClient(kubeConfig), resource, 'd', { getTimeoutMs: ms }),
  },
  {
    option: 'timeoutMs',
    minMs: 1,
    maxMs: 600_000,
    apply: (ms) =>
      new KubeClient(kubeConfig)
        .requestJson('GET', '/api/v1/configmaps', { timeoutMs: ms, signal: AbortSignal.abort() })
        .catch((error: unknown) => {
          if (error instanceof RangeError) throw error;
        }),
  },
  {
    option: 'gracefulShutdownTimeoutMs',
    minMs: 0,
    maxMs: HOUR,
    apply: (ms) =>
      new Controller({ name: 'c', reconcile: () => undefined, gracefulShutdownTimeoutMs: ms }),
  },
  {
    option: 'gracefulShutdownTimeoutMs',
    minMs: 0,
    maxMs: HOUR,
    apply: (ms) => new Manager({ gracefulShutdownTimeoutMs: ms }),
  },
  {
    option: 'timeoutMs',
    minMs: 0,
    maxMs: DAY,
    apply: (ms) => new Manager().waitForCacheSync({ timeoutMs: ms }),
  },
  {
    option: 'maxMs',
    minMs: 1,
    maxMs: DAY,
    apply: (ms) => new ItemExponentialFailureRateLimiter(1, ms),
  },
  {
    option: 'baseMs',
    minMs: 1,
    maxMs: 1_000_000,
    apply: (ms) => new ItemExponentialFailureRateLimiter(ms),
  },
];

describe.each(OPTIONS)(
  'the option $option ($minMs to $maxMs ms)',
  ({ option, minMs, maxMs, apply }) => {
    const outcome = async (ms: number): Promise<unknown> => {
      try {
        await apply(ms);
        return 'accepted';
      } catch (error) {
        return error;
      }
    };

    it('accepts its limits', async () => {
      expect(await outcome(minMs)).toBe('accepted');
      expect(await outcome(maxMs)).toBe('accepted');
    });

    it.each([
      ['below the minimum', minMs - 1, 'is below the minimum'],
      ['above the maximum', maxMs + 1, 'is above the maximum'],
      ['NaN', Number.NaN, 'is not a finite number'],
      ['negative', -1, 'is below the minimum'],
      ['Infinity', Number.POSITIVE_INFINITY, 'is not a finite number'],
    ])('refuses a value %s with a RangeError naming it', async (_case, value, problem) => {
      const error = await outcome(value);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain(`${option} ${value} ${problem}`);
    });
  },
);

describe('the options that are not durations but feed one', () => {
  it.each<[string, () => unknown]>([
    ['backoff.factor', () => new Backoff({ factor: 0.5 })],
    ['backoff.factor', () => new Backoff({ factor: Number.NaN })],
    ['backoff.jitter', () => new Backoff({ jitter: 2 })],
    ['ratePerSecond', () => new BucketRateLimiter(0)],
    ['ratePerSecond', () => new BucketRateLimiter(Number.NaN)],
    ['burst', () => new BucketRateLimiter(10, 0.5)],
    ...[0, 1025, 1.5, Number.NaN, Number.POSITIVE_INFINITY].map(
      (workers) =>
        [
          'maxConcurrentReconciles',
          () =>
            new Controller({
              name: 'c',
              reconcile: () => undefined,
              maxConcurrentReconciles: workers,
            }),
        ] as [string, () => unknown],
    ),
  ])('refuses a nonsensical %s with a RangeError naming it', (option, make) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(option);
  });

  it.each<[[number, number]]>([
    [[0, 10]],
    [[10, 5]],
    [[1, 86_401]],
    [[Number.NaN, 10]],
    [[5] as unknown as [number, number]],
  ])('refuses watchTimeoutSeconds %j, and accepts [1, 86400]', (value) => {
    expect(() => watcherSettings({ watchTimeoutSeconds: value })).toThrow(
      /^watchTimeoutSeconds .* is not two numbers of seconds from 1 to 86400/,
    );
    expect(watcherSettings({ watchTimeoutSeconds: [1, 86_400] }).watchTimeoutSeconds).toEqual([
      1, 86_400,
    ]);
  });

  it('refuses a delay for addAfter that is NaN or infinite, and honours any finite one', () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ clock });
    expect(() => queue.addAfter('a', Number.NaN)).toThrow(RangeError);
    expect(() => queue.addAfter('a', Number.POSITIVE_INFINITY)).toThrow(RangeError);
    queue.addAfter('a', 800 * HOUR);
    clock.advance(800 * HOUR - 1);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it('checks waitForCacheSync before anything else, started or not', async () => {
    const manager = new Manager().addInformer(new FakeInformer());
    await expect(manager.waitForCacheSync({ timeoutMs: -5 })).rejects.toThrow(
      'timeoutMs -5 is below the minimum of 0',
    );
  });
});
