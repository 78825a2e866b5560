import { describe, expect, it } from 'vitest';
import { checkDurationMs, formatMs } from '../src/durations.js';
import { BackendWatcher, DURATION_RANGES } from '../src/index.js';

describe('checkDurationMs', () => {
  const range = { min: 1_000, max: 3_600_000 };
  it.each([
    [1_000, 1_000],
    [3_600_000, 3_600_000],
    [60_000, 60_000],
  ])('accepts %d', (value, expected) => {
    expect(checkDurationMs('timeoutMs', value, range)).toBe(expected);
  });
  it.each([
    [999, 'timeoutMs 999 is below the minimum of 1000 (1s)'],
    [3_600_001, 'timeoutMs 3600001 is above the maximum of 3600000 (1h)'],
    [0, 'timeoutMs 0 is below the minimum of 1000 (1s)'],
    [-5, 'timeoutMs -5 is below the minimum of 1000 (1s)'],
    [Number.NaN, 'timeoutMs NaN is not a number of milliseconds'],
    [Number.POSITIVE_INFINITY, 'timeoutMs Infinity is above the maximum of 3600000 (1h)'],
  ])('refuses %d', (value, message) => {
    expect(() => checkDurationMs('timeoutMs', value, range)).toThrow(new RangeError(message));
  });
  it('accepts 0 where it means off, and says so when refusing', () => {
    expect(checkDurationMs('periodMs', 0, { ...range, off: true })).toBe(0);
    expect(() => checkDurationMs('periodMs', 10, { ...range, off: true })).toThrow(
      'periodMs 10 is below the minimum of 1000 (1s), or 0 to turn it off',
    );
  });
  it('formats limits as a person writes them', () => {
    expect([formatMs(2_592_000_000), formatMs(90_000), formatMs(1_500), formatMs(1)]).toEqual([
      '720h',
      '90s',
      '1500ms',
      '1ms',
    ]);
  });
});

describe('BackendWatcher duration options', () => {
  const base = {
    kubeConfig: {} as never,
    namespace: 'tools',
    groupRef: 'g',
    registry: {} as never,
  };
  it.each([
    ['secretRefreshPeriodMs', 999],
    ['secretRefreshPeriodMs', DURATION_RANGES.secretRefreshPeriodMs.max + 1],
    ['secretRefreshPeriodMs', Number.NaN],
    ['initialSyncTimeoutMs', 0],
    ['initialSyncTimeoutMs', DURATION_RANGES.initialSyncTimeoutMs.max + 1],
    ['initialSyncTimeoutMs', -1],
  ])('refuses %s %d with a RangeError naming it', (option, value) => {
    expect(() => new BackendWatcher({ ...base, [option]: value })).toThrow(
      expect.objectContaining({ name: 'RangeError', message: expect.stringContaining(option) }),
    );
  });
  it.each([
    ['secretRefreshPeriodMs', 0],
    ['secretRefreshPeriodMs', DURATION_RANGES.secretRefreshPeriodMs.min],
    ['secretRefreshPeriodMs', DURATION_RANGES.secretRefreshPeriodMs.max],
    ['initialSyncTimeoutMs', DURATION_RANGES.initialSyncTimeoutMs.min],
    ['initialSyncTimeoutMs', DURATION_RANGES.initialSyncTimeoutMs.max],
  ])('accepts %s %d', (option, value) => {
    expect(() => new BackendWatcher({ ...base, [option]: value })).not.toThrow();
  });
});
