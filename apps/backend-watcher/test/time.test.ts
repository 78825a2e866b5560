import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpDate, isoTime } from '../src/time.js';

// Years 0 to 9999, the range the formatters work out themselves.
const times = fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 });

describe('time formatting without Date', () => {
  it('gives what toISOString gives', () => {
    fc.assert(
      fc.property(times, (time) => {
        expect(isoTime(time)).toBe(new Date(time).toISOString());
      }),
    );
  });

  it('gives what toUTCString gives (the HTTP Date header)', () => {
    fc.assert(
      fc.property(times, (time) => {
        expect(httpDate(time)).toBe(new Date(time).toUTCString());
      }),
    );
  });

  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [951_782_400_000, '2000-02-29T00:00:00.000Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    [1_796_554_739_575, '2026-12-06T10:58:59.575Z'],
    [4_107_456_000_000, '2100-02-28T00:00:00.000Z'],
  ])('formats %d as %s', (time, text) => {
    expect(isoTime(time)).toBe(text);
  });

  it('hands years outside 0 to 9999 to Date', () => {
    const far = 8.64e15;
    expect(isoTime(far)).toBe('+275760-09-13T00:00:00.000Z');
    expect(httpDate(-far)).toBe(new Date(-far).toUTCString());
  });
});
