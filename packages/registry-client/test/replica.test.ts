import type { RegistryChange } from '@vmcp/registry';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../src/protocol.js';
import { SidecarReplica } from '../src/replica.js';
import { backend } from './support/api.js';

function replica() {
  const synced: number[] = [];
  const held = new SidecarReplica({ historyLimit: 16, onSynced: (v) => synced.push(v) });
  const feed = held.reader.changes();
  const changes: RegistryChange[] = [];
  const read = async (count: number) => {
    while (changes.length < count) {
      const next = await feed.next();
      if (next.done) break;
      changes.push(next.value);
    }
    return changes;
  };
  return { held, synced, read };
}

describe('SidecarReplica', () => {
  it('holds nothing before its first snapshot, then says synced once', () => {
    const { held, synced } = replica();
    expect(held.synced).toBe(false);
    expect(held.sidecarVersion).toBeUndefined();
    expect(held.versionLag).toBe(0);
    held.takeSnapshot({ version: 40, backends: [backend('b'), backend('a')] });
    held.takeSnapshot({ version: 41, backends: [] });
    expect(synced).toEqual([40]);
    expect(held.resets).toBe(1);
    expect(held.reader.version).toBe(41);
  });

  it('applies the change that follows, skips one already held, and refuses a gap', async () => {
    const { held, read } = replica();
    held.takeSnapshot({ version: 10, backends: [backend('a')] });
    expect(held.takeChange({ version: 11, upserted: [backend('b')], removed: ['a'] })).toBe(true);
    expect(held.takeChange({ version: 11, upserted: [backend('b')], removed: ['a'] })).toBe(false);
    expect(() => held.takeChange({ version: 13, upserted: [], removed: [] })).toThrow(
      new ProtocolError('change 13 does not follow 11'),
    );
    expect(held.reader.list()).toEqual([backend('b')]);
    expect((await read(2)).map((c) => [c.version, c.reset === true])).toEqual([
      [10, true],
      [11, false],
    ]);
  });

  it('refuses a change before any snapshot', () => {
    expect(() => replica().held.takeChange({ version: 1, upserted: [], removed: [] })).toThrow(
      ProtocolError,
    );
  });

  it('turns a long-poll answer one version on into a change, and a jump into a reset', async () => {
    const { held, read } = replica();
    held.takeList({ version: 5, backends: [backend('a'), backend('b')] });
    held.takeList({ version: 6, backends: [backend('b'), backend('c')] });
    held.takeList({ version: 9, backends: [backend('c')] });
    const [first, step, jump] = await read(3);
    expect(first).toMatchObject({ version: 5, reset: true });
    expect(step).toEqual({ version: 6, upserted: [backend('c')], removed: ['a'] });
    expect(jump).toEqual({ version: 9, upserted: [backend('c')], removed: [], reset: true });
    expect(held.resets).toBe(1);
  });

  it('shifts a restarted sidecar that starts lower above what was held', () => {
    const { held } = replica();
    held.takeSnapshot({ version: 1_000, backends: [backend('a')] });
    held.takeSnapshot({ version: 3, backends: [backend('x')] });
    expect(held.reader.version).toBe(1_001);
    expect(held.sidecarVersion).toBe(3);
    held.takeChange({ version: 4, upserted: [backend('y')], removed: [] });
    expect(held.reader.version).toBe(1_002);
    expect(held.sidecarVersion).toBe(4);
  });

  it('counts the lag from what the held sidecar announced, and forgets an earlier sidecar', () => {
    const { held } = replica();
    held.announce(1_000);
    held.takeSnapshot({ version: 1_000, backends: [] });
    held.announce(1_003);
    expect(held.versionLag).toBe(3);
    // A restart whose versions start lower: what the first announced says nothing any more.
    held.announce(7);
    held.takeSnapshot({ version: 7, backends: [] });
    expect(held.versionLag).toBe(0);
    held.announce(9);
    expect(held.versionLag).toBe(2);
    held.takeChange({ version: 8, upserted: [], removed: [] });
    expect(held.versionLag).toBe(1);
  });

  it('takes only the access the sidecar can say', () => {
    const { held } = replica();
    held.noteAccess('everything');
    held.noteAccess(['secrets']);
    expect(held.access).toBeUndefined();
    held.noteAccess('redacted');
    expect(held.access).toBe('redacted');
    held.noteAccess(undefined);
    expect(held.access).toBe('redacted');
  });
});
