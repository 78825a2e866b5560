import { describe, expect, it } from 'vitest';
import { createRegistryReplica, InvalidBackendError, type RegistryChange } from '../src/index.js';
import { backend } from './fixtures.js';

async function take(feed: AsyncIterator<RegistryChange>, count: number) {
  const out: RegistryChange[] = [];
  for (let i = 0; i < count; i++) {
    const next = await feed.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe('createRegistryReplica', () => {
  it('is empty at its initial version until the first reset', () => {
    const replica = createRegistryReplica({ initialVersion: 3 });
    expect(replica.snapshot()).toEqual({ version: 3, backends: [] });
  });

  it("takes the source's content and versions, and publishes a reset then each change", async () => {
    const replica = createRegistryReplica();
    const feed = replica.changes();
    replica.reset(100, [backend('b'), backend('a')]);
    replica.applyChange({ version: 101, upserted: [backend('c')], removed: ['a'] });
    expect(await take(feed, 2)).toEqual([
      { version: 100, upserted: [backend('a'), backend('b')], removed: [], reset: true },
      { version: 101, upserted: [backend('c')], removed: ['a'] },
    ]);
    expect(replica.list().map((b) => b.id)).toEqual(['b', 'c']);
    expect(replica.version).toBe(101);
  });

  it('publishes a change whose content it already holds: the source moved its version', () => {
    const replica = createRegistryReplica();
    replica.reset(5, [backend('a')]);
    replica.applyChange({ version: 6, upserted: [backend('a')], removed: [] });
    expect(replica.version).toBe(6);
  });

  it('refuses a version that does not follow, or a reset that does not go up, changing nothing', () => {
    const replica = createRegistryReplica();
    replica.reset(10, [backend('a')]);
    expect(() => replica.applyChange({ version: 12, upserted: [], removed: ['a'] })).toThrow(
      RangeError,
    );
    expect(() => replica.reset(10, [])).toThrow(RangeError);
    expect(() => replica.reset(9, [])).toThrow(RangeError);
    expect(() => replica.reset(11, [{ ...backend('x'), id: '' }])).toThrow(InvalidBackendError);
    expect(replica.snapshot()).toEqual({ version: 10, backends: [backend('a')] });
  });

  it('starts a new line at a reset: earlier versions resume with a reset, later ones replay', async () => {
    const replica = createRegistryReplica();
    replica.reset(10, [backend('a')]);
    replica.applyChange({ version: 11, upserted: [backend('b')], removed: [] });
    replica.reset(500, [backend('c')]);
    replica.applyChange({ version: 501, upserted: [backend('d')], removed: [] });
    const [fromOldLine] = await take(replica.changes({ sinceVersion: 11 }), 1);
    expect(fromOldLine).toMatchObject({ reset: true, version: 501 });
    expect(await take(replica.changes({ sinceVersion: 500 }), 1)).toEqual([
      { version: 501, upserted: [backend('d')], removed: [] },
    ]);
  });

  it('brings a reader that was walking the old line to the reset', async () => {
    const replica = createRegistryReplica();
    replica.reset(10, [backend('a')]);
    const feed = replica.changes();
    replica.applyChange({ version: 11, upserted: [backend('b')], removed: [] });
    replica.reset(900, [backend('z')]);
    expect((await take(feed, 2)).map((c) => [c.version, c.reset === true])).toEqual([
      [11, false],
      [900, true],
    ]);
  });
});
