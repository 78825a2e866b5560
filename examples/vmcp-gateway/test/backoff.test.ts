import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from '../src/backoff.js';

describe('retryDelayMs', () => {
  it.each([
    [1, 0.5, 500],
    [2, 0.5, 1000],
    [3, 0.5, 2000],
    [7, 0.5, 30_000], // 32 s capped at 30 s
    [1, 0, 400], // jitter −20 %
    [1, 0.999_999, 600], // jitter +20 %
    [40, 0.999_999, 30_000], // never above the cap, even jittered up
  ])('after %i failures with random %d waits %i ms', (failures, random, expected) => {
    expect(retryDelayMs(failures, DEFAULT_RETRY_POLICY, () => random)).toBe(expected);
  });

  it('stays within the jittered exponential bounds and the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (failures, random) => {
          const base = Math.min(30_000, 500 * 2 ** (failures - 1));
          const delay = retryDelayMs(failures, DEFAULT_RETRY_POLICY, () => random);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
          expect(delay).toBeLessThanOrEqual(30_000);
        },
      ),
    );
  });
});
