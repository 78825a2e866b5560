import { describe, expect, it } from 'vitest';
import {
  type Backend,
  createRegistryReplica,
  InvalidBackendError,
  type RegistryChange,
} from '../src/index.js';
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

  it("sorts a reset once: its list is the reset change's array, duplicates keeping the last", () => {
    const replica = createRegistryReplica();
    const change = replica.reset(7, [
      backend('c'),
      backend('a'),
      { ...backend('c'), name: 'last' },
    ]);
    expect(change.upserted.map((b) => [b.id, b.name])).toEqual([
      ['a', 'a'],
      ['c', 'last'],
    ]);
    expect(replica.list()).toBe(change.upserted);
    expect(replica.snapshot()).toEqual({ version: 7, backends: change.upserted });
    expect(replica.get('c')?.name).toBe('last');
    replica.applyChange({ version: 8, upserted: [backend('b')], removed: [] });
    expect(replica.list().map((b) => b.id)).toEqual(['a', 'b', 'c']);
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

  describe('adopt', () => {
    /** A backend as JSON.parse gives it: nothing else holds it. */
    const parsed = (id: string, extra = ''): Backend =>
      JSON.parse(
        `{"id":"${id}","name":"${id}","baseUrl":"http://${id}:8080/mcp","transportType":"sse","healthStatus":"healthy","metadata":{"__proto__":"p","k":"v"${extra}},"authConfig":{"type":"aws_sts","region":"r","roleMappings":[{"roleArn":"a"}]}}`,
      );

    it('keeps handed-over backends frozen in place instead of copying them', async () => {
      const replica = createRegistryReplica();
      const feed = replica.changes();
      const [a, b] = [parsed('a'), parsed('b')];
      replica.reset(1, [a], { adopt: true });
      const change = { version: 2, upserted: [b], removed: ['a'] };
      const published = replica.applyChange(change, { adopt: true });
      expect(replica.get('b')).toBe(b);
      expect(published.upserted).toBe(change.upserted);
      expect(published.removed).toBe(change.removed);
      for (const value of [a, b, b.metadata, b.authConfig, change.upserted, change.removed]) {
        expect(Object.isFrozen(value)).toBe(true);
      }
      expect(Object.isFrozen((b.authConfig as { roleMappings: object[] }).roleMappings[0])).toBe(
        true,
      );
      expect(Object.keys(b.metadata)).toEqual(['__proto__', 'k']);
      expect((await take(feed, 2)).map((c) => c.upserted[0])).toEqual([a, b]);
    });

    it('gives the same content and feed as copying', () => {
      const copying = createRegistryReplica();
      const adopting = createRegistryReplica();
      copying.reset(1, [parsed('b'), parsed('a')]);
      adopting.reset(1, [parsed('b'), parsed('a')], { adopt: true });
      const change = () => ({
        version: 2,
        upserted: [parsed('d'), parsed('c')],
        removed: ['b', 'a'],
      });
      expect(adopting.applyChange(change(), { adopt: true })).toEqual(
        copying.applyChange(change()),
      );
      expect(adopting.snapshot()).toEqual(copying.snapshot());
    });

    it('copies what is not plain data, and arrays that are frozen already', () => {
      const replica = createRegistryReplica();
      replica.reset(1, []);
      class Metadata {
        k = 'v';
      }
      const odd = {
        ...parsed('a'),
        metadata: new Metadata(),
        caBundlePath: undefined,
      } as unknown as Backend;
      const upserted = Object.freeze([odd]);
      replica.applyChange({ version: 2, upserted, removed: [] }, { adopt: true });
      const held = replica.get('a');
      expect(held).not.toBe(odd);
      expect(Object.getPrototypeOf(held?.metadata)).toBe(Object.prototype);
      expect(held?.metadata).toEqual({ k: 'v' });
      expect(held && 'caBundlePath' in held).toBe(false);
      expect(Object.isFrozen(held)).toBe(true);
    });

    it("leaves the caller's objects alone without it", () => {
      const replica = createRegistryReplica();
      const a = parsed('a');
      replica.reset(1, [a]);
      expect(replica.get('a')).not.toBe(a);
      expect(Object.isFrozen(a)).toBe(false);
    });
  });
});
