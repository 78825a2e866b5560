import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock.js';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from '../src/ratelimiter.js';

describe('ItemExponentialFailureRateLimiter', () => {
  it('doubles the delay per failure from the base', () => {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1_000_000);
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(limiter.numRequeues('a')).toBe(5);
  });

  it('caps the delay at the maximum, also after very many failures', () => {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when('a');
    expect(last).toBe(1_000_000);
  });

  it('keeps items apart and starts over after forget', () => {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1000);
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(5);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through at once, then spaces items at the rate', () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter(10, 3, clock);
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c')]).toEqual([0, 0, 0]);
    expect(limiter.when('d')).toBeCloseTo(100);
    expect(limiter.when('e')).toBeCloseTo(200);
  });

  it('refills over time up to the burst', () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter(10, 2, clock);
    limiter.when('a');
    limiter.when('b');
    clock.advance(10_000);
    expect([limiter.when('c'), limiter.when('d')]).toEqual([0, 0]);
    expect(limiter.when('e')).toBeGreaterThan(0);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('takes the longer of per-item backoff and the overall bucket', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter(clock);
    expect(limiter.when('a')).toBe(5);
    expect(limiter.when('a')).toBe(10);
    // 98 more distinct items use up the burst of 100; the next one waits for the bucket.
    for (let i = 0; i < 98; i++) limiter.when(`item-${i}`);
    expect(limiter.when('fresh')).toBeCloseTo(100);
  });

  it('forgets in every limiter', () => {
    const limiter = new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(5, 100));
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
  });
});
