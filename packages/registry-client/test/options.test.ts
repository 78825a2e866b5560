/**
 * Every duration option of connectRegistry has a stated range (the workspace's rule for
 * durations): below, above, NaN and negative are a RangeError naming the option, the value and
 * the limit, at construction; both limits are accepted.
 */
import { describe, expect, it } from 'vitest';
import { connectRegistry, type RegistryClientOptions } from '../src/index.js';
import { DURATION_RANGES, resolveOptions } from '../src/options.js';

const url = 'http://127.0.0.1:9';

type Row = [string, (ms: number) => Partial<RegistryClientOptions>, number, number];
const rows: Row[] = [
  ['idleTimeoutMs', (ms) => ({ idleTimeoutMs: ms }), 100, 3_600_000],
  ['connectTimeoutMs', (ms) => ({ connectTimeoutMs: ms }), 100, 300_000],
  ['streamRetryMs', (ms) => ({ streamRetryMs: ms }), 100, 86_400_000],
  ['backoff.initialMs', (ms) => ({ backoff: { initialMs: ms, maxMs: 600_000 } }), 1, 60_000],
  ['backoff.maxMs', (ms) => ({ backoff: { initialMs: 1, maxMs: ms } }), 1, 600_000],
];

describe.each(rows)('%s', (name, option, min, max) => {
  const connect = (ms: number) => connectRegistry({ url, ...option(ms) });

  it(`refuses below ${min}, above ${max}, NaN and negative, naming the limit`, () => {
    expect(() => connect(min - 0.5)).toThrow(
      new RegExp(`^connectRegistry: ${name} ${min - 0.5} is below the minimum of ${min} \\(`),
    );
    expect(() => connect(max + 1)).toThrow(
      new RegExp(`^connectRegistry: ${name} ${max + 1} is above the maximum of ${max} \\(`),
    );
    expect(() => connect(1e12)).toThrow(RangeError);
    expect(() => connect(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => connect(Number.NaN)).toThrow(`${name} NaN is not a number of milliseconds`);
    expect(() => connect(-1)).toThrow(RangeError);
  });

  it(`accepts ${min} and ${max}`, async () => {
    await connect(min).close();
    await connect(max).close();
  });
});

describe('the ranges', () => {
  it('are the ones the option docs state, and no timer needs more than the clock chains', () => {
    expect(DURATION_RANGES).toEqual({
      idleTimeoutMs: { min: 100, max: 3_600_000 },
      connectTimeoutMs: { min: 100, max: 300_000 },
      streamRetryMs: { min: 100, max: 86_400_000 },
    });
  });

  it('refuses a backoff whose maximum is below its first delay, and a jitter outside [0, 1)', () => {
    expect(() => connectRegistry({ url, backoff: { initialMs: 30_000 } })).toThrow(
      'connectRegistry: backoff.maxMs 10000 is below the minimum of 30000 (30s)',
    );
    expect(() => connectRegistry({ url, backoff: { jitter: 1 } })).toThrow(RangeError);
  });

  it('gives the defaults when nothing is set', () => {
    const settings = resolveOptions({ url });
    expect(settings.timing).toEqual({
      idleTimeoutMs: undefined,
      connectTimeoutMs: 10_000,
      longPollSeconds: 30,
      streamRetryMs: 30_000,
    });
    expect(settings.policy.backoff.maxMs).toBe(10_000);
    expect(settings.url).toBe('http://127.0.0.1:9/');
  });
});
