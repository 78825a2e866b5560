import { describe, expect, it } from 'vitest';
import { startFakeApiServer } from '../src/index.js';

describe('startFakeApiServer options', () => {
  it.each([0, -1, 86_400_001, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses bookmarkIntervalMs %d with a RangeError naming it, before it listens',
    async (bookmarkIntervalMs) => {
      await expect(startFakeApiServer({ https: false, bookmarkIntervalMs })).rejects.toThrow(
        new RangeError(
          `bookmarkIntervalMs ${bookmarkIntervalMs} is not a number of milliseconds from 1 to 86400000 (24h)`,
        ),
      );
    },
  );

  it.each([1, 86_400_000])('takes bookmarkIntervalMs %d', async (bookmarkIntervalMs) => {
    const fake = await startFakeApiServer({ https: false, bookmarkIntervalMs });
    await fake.close();
  });
});
