import { describe, expect, it } from 'vitest';
import { installCrds, startEnv } from '../src/index.js';
import { checkWaitMs, until } from '../src/wait.js';

describe('until', () => {
  it('polls until the check holds', async () => {
    let calls = 0;
    await until(async () => ++calls === 3, {
      deadline: Date.now() + 60_000,
      intervalMs: 1,
      timedOut: 'never',
    });
    expect(calls).toBe(3);
  });

  it('fails with its message once the deadline passed', async () => {
    await expect(
      until(async () => false, {
        deadline: Date.now() - 1,
        intervalMs: 1,
        timedOut: 'not in time',
      }),
    ).rejects.toThrow(/^not in time$/);
  });

  it('gives up at once, before checking, when a process it waits on is gone', async () => {
    let calls = 0;
    const waiting = until(async () => ++calls > 100, {
      deadline: Date.now() + 60_000,
      intervalMs: 1,
      timedOut: 'not in time',
      gaveUp: () => (calls >= 2 ? 'the process exited' : undefined),
    });
    await expect(waiting).rejects.toThrow(/^the process exited$/);
    expect(calls).toBe(2);
  });
});

describe('the waits a caller sets', () => {
  it.each([
    [1000, 1000],
    [3_600_000, 3_600_000],
  ])('accepts %d ms within the range, the limits included', (value, expected) => {
    expect(checkWaitMs('timeoutMs', value, 1000, 3_600_000)).toBe(expected);
  });

  it.each([999, 3_600_001, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses %d with a RangeError naming the option, the value and the limits',
    (value) => {
      expect(() => checkWaitMs('timeoutMs', value, 1000, 3_600_000)).toThrow(
        new RangeError(`timeoutMs ${value} is not a number of milliseconds from 1000 to 3600000`),
      );
    },
  );

  it.each([0, 999, 3_600_001, Number.NaN])(
    'refuses startEnv({ timeoutMs: %d }) before it starts anything',
    async (timeoutMs) => {
      await expect(startEnv({ timeoutMs })).rejects.toThrow(
        `timeoutMs ${timeoutMs} is not a number of milliseconds from 1000 to 3600000`,
      );
    },
  );

  it.each([0, -1, 3_600_001, Number.NaN])(
    'refuses installCrds(…, %d) before it sends a request',
    async (timeoutMs) => {
      const nowhere = { server: 'https://127.0.0.1:1', token: 't', ca: '' };
      await expect(installCrds(nowhere, [], timeoutMs)).rejects.toThrow(RangeError);
    },
  );
});
