import { describe, expect, it } from 'vitest';
import {
  checkDuration,
  createSystemClock,
  humanMs,
  MAX_TIMER_MS,
  sleep,
  type TimerSource,
} from '../src/clock.js';

/** A timer source that moves only when told to, and records every delay it was asked for. */
function fakeTimers() {
  let now = 0;
  const pending = new Map<number, { at: number; callback: () => void }>();
  const asked: number[] = [];
  let next = 0;
  const source: TimerSource = {
    now: () => now,
    setTimeout(callback, ms) {
      asked.push(ms);
      pending.set(++next, { at: now + ms, callback });
      return next;
    },
    clearTimeout: (id) => pending.delete(id as number),
  };
  /** Runs the earliest timer, moving time to it. */
  const fireNext = (): boolean => {
    const [id, timer] = [...pending].sort(([, a], [, b]) => a.at - b.at)[0] ?? [];
    if (id === undefined || timer === undefined) return false;
    pending.delete(id);
    now = timer.at;
    timer.callback();
    return true;
  };
  return { source, asked, fireNext, pending, now: () => now };
}

describe('createSystemClock', () => {
  it('waits a delay above what one Node timer honours as a chain of timers, in whole', () => {
    const timers = fakeTimers();
    const clock = createSystemClock(timers.source);
    const total = 3 * MAX_TIMER_MS + 5;
    let fired = false;
    clock.setTimer(total, () => {
      fired = true;
    });
    while (!fired && timers.fireNext()) {}
    expect(fired).toBe(true);
    expect(timers.now()).toBe(total);
    expect(timers.asked).toEqual([MAX_TIMER_MS, MAX_TIMER_MS, MAX_TIMER_MS, 5]);
    expect(Math.max(...timers.asked)).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  it('cancels a chained timer at any link', () => {
    const timers = fakeTimers();
    const clock = createSystemClock(timers.source);
    let fired = false;
    const cancel = clock.setTimer(2 * MAX_TIMER_MS, () => {
      fired = true;
    });
    timers.fireNext();
    cancel();
    expect(timers.pending.size).toBe(0);
    expect(fired).toBe(false);
  });

  it('takes NaN and negative delays as 0, and a short delay as one timer', () => {
    const timers = fakeTimers();
    const clock = createSystemClock(timers.source);
    clock.setTimer(Number.NaN, () => undefined);
    clock.setTimer(-5, () => undefined);
    clock.setTimer(250, () => undefined);
    expect(timers.asked).toEqual([0, 0, 250]);
  });
});

describe('sleep', () => {
  it('is true after the delay, false at once when aborted, and leaves no timer', async () => {
    const timers = fakeTimers();
    const clock = createSystemClock(timers.source);
    const controller = new AbortController();
    const passing = sleep(clock, 100, controller.signal);
    timers.fireNext();
    expect(await passing).toBe(true);
    const aborted = sleep(clock, 100, controller.signal);
    controller.abort();
    expect(await aborted).toBe(false);
    expect(timers.pending.size).toBe(0);
    expect(await sleep(clock, 100, controller.signal)).toBe(false);
  });
});

describe('checkDuration', () => {
  const range = { min: 100, max: 3_600_000 };
  it.each([
    [99, 'connectRegistry: x 99 is below the minimum of 100 (100ms)'],
    [-1, 'connectRegistry: x -1 is below the minimum of 100 (100ms)'],
    [3_600_001, 'connectRegistry: x 3600001 is above the maximum of 3600000 (1h)'],
    [Number.POSITIVE_INFINITY, 'connectRegistry: x Infinity is above the maximum of 3600000 (1h)'],
    [Number.NaN, 'connectRegistry: x NaN is not a number of milliseconds'],
    ['5' as unknown as number, 'connectRegistry: x 5 is not a number of milliseconds'],
  ])('refuses %s', (value, message) => {
    expect(() => checkDuration('x', value, range)).toThrow(new RangeError(message));
  });

  it('accepts both limits', () => {
    expect(checkDuration('x', 100, range)).toBe(100);
    expect(checkDuration('x', 3_600_000, range)).toBe(3_600_000);
  });

  it.each([
    [3_600_000, '1h'],
    [300_000, '5m'],
    [90_000, '90s'],
    [250, '250ms'],
    [1500, '1500ms'],
  ])('writes %s ms as %s', (ms, text) => {
    expect(humanMs(ms)).toBe(text);
  });
});
