import { describe, expect, it } from 'vitest';
import { eventually, NotMetError } from '../src/index.js';

/** A value that becomes true on the `n`th read. */
function trueOnRead(n: number) {
  let reads = 0;
  return {
    read: () => ++reads >= n,
    reads: () => reads,
  };
}

describe('eventually', () => {
  it('retries a predicate until it holds', async () => {
    const flag = trueOnRead(3);
    await eventually(flag.read, { intervalMs: 1 });
    expect(flag.reads()).toBe(3);
  });

  it('retries assertions until they pass, and resolves with what the check returned', async () => {
    const flag = trueOnRead(2);
    const value = await eventually(
      () => {
        expect(flag.read()).toBe(true);
        return 'done';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('done');
  });

  it('awaits an async check, and a check that resolves to undefined passes', async () => {
    const flag = trueOnRead(2);
    await expect(
      eventually(async () => {
        await Promise.resolve();
        expect(flag.read()).toBe(true);
      }),
    ).resolves.toBeUndefined();
  });

  it('rejects at the ceiling with the last assertion error', async () => {
    let attempt = 0;
    const error = await eventually(
      () => {
        attempt++;
        expect(attempt).toBe(-1);
      },
      { timeoutMs: 50, intervalMs: 5 },
    ).catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/expected \d+ to be -1/);
    expect(attempt).toBeGreaterThan(1);
  });

  it('rejects at the ceiling with what was awaited when a predicate never held', async () => {
    await expect(eventually(() => false, { timeoutMs: 50, what: 'the relist' })).rejects.toThrow(
      new NotMetError('the relist', 50),
    );
    await expect(eventually(() => false, 30)).rejects.toThrow('condition not met within 30 ms');
  });

  it('rejects at the ceiling while an attempt is still running (else the test times out)', async () => {
    await expect(eventually(() => new Promise(() => {}), { timeoutMs: 50 })).rejects.toThrow(
      'Timed out',
    );
  });
});
