import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createDynamicRegistry, type RegistryChange } from '../src/index.js';
import { backend } from './fixtures.js';

async function take(iterator: AsyncIterator<RegistryChange>, count: number) {
  const out: RegistryChange[] = [];
  for (let i = 0; i < count; i++) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe('changes', () => {
  it('delivers every change in order with its version', async () => {
    const registry = createDynamicRegistry([backend('a')]);
    const feed = registry.changes();
    registry.upsert(backend('b'));
    registry.remove('a');
    registry.upsert(backend('b')); // no change, no event
    registry.upsert(backend('b', { healthStatus: 'unhealthy' }));
    expect(await take(feed, 3)).toEqual([
      { version: 1, upserted: [backend('b')], removed: [] },
      { version: 2, upserted: [], removed: ['a'] },
      { version: 3, upserted: [backend('b', { healthStatus: 'unhealthy' })], removed: [] },
    ]);
    await feed.return?.();
  });

  it('loses nothing for a slow consumer', async () => {
    const registry = createDynamicRegistry();
    const feed = registry.changes();
    for (let i = 0; i < 500; i++) registry.upsert(backend(`b${i}`));
    const versions = (await take(feed, 500)).map((c) => c.version);
    expect(versions).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  });

  it('wakes a consumer that waits for the next change', async () => {
    const registry = createDynamicRegistry();
    const feed = registry.changes();
    const pending = feed.next();
    registry.upsert(backend('a'));
    expect((await pending).value).toMatchObject({ version: 1 });
  });

  it('serves many consumers the same changes', async () => {
    const registry = createDynamicRegistry();
    const feeds = Array.from({ length: 50 }, () => registry.changes());
    const results = Promise.all(feeds.map((feed) => take(feed, 2)));
    registry.upsert(backend('a'));
    registry.remove('a');
    for (const changes of await results) expect(changes.map((c) => c.version)).toEqual([1, 2]);
  });

  it('ends without an error when the signal aborts, and removes its listener', async () => {
    const registry = createDynamicRegistry();
    const controller = new AbortController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const change of registry.changes({ signal: controller.signal })) {
        seen.push(change.version);
      }
    })();
    registry.upsert(backend('a'));
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await loop;
    expect(seen).toEqual([1]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('listens to its signal once for its whole life, not once per wait', async () => {
    const registry = createDynamicRegistry();
    const controller = new AbortController();
    const feed = registry.changes({ signal: controller.signal });
    const listeners = (): number => getEventListeners(controller.signal, 'abort').length;
    for (let i = 0; i < 5; i++) {
      const pending = feed.next();
      expect(listeners()).toBe(1);
      registry.upsert(backend(`b${i}`));
      expect((await pending).value).toMatchObject({ version: i + 1 });
      expect(listeners()).toBe(1);
    }
    await feed.return?.();
    expect(listeners()).toBe(0);
  });

  it('answers a next() called while another waits with the change after it', async () => {
    const registry = createDynamicRegistry();
    const feed = registry.changes();
    const first = feed.next();
    const second = feed.next();
    registry.upsert(backend('a'));
    registry.upsert(backend('b'));
    expect((await first).value).toMatchObject({ version: 1 });
    expect((await second).value).toMatchObject({ version: 2 });
  });

  it('ends a waiting next() at once when the consumer returns', async () => {
    const registry = createDynamicRegistry();
    const feed = registry.changes();
    const pending = feed.next();
    await feed.return?.();
    expect(await pending).toEqual({ done: true, value: undefined });
    registry.upsert(backend('a'));
    expect(await feed.next()).toEqual({ done: true, value: undefined });
  });

  it('is collected when dropped without being ended, and its listener goes with it', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const registry = createDynamicRegistry();
    const controller = new AbortController();
    let feed: AsyncIterator<RegistryChange> | undefined = registry.changes({
      signal: controller.signal,
    });
    const pending = feed.next();
    registry.upsert(backend('a'));
    await pending;
    const collected = new WeakRef(feed);
    feed = undefined;
    // The signal outlives the feed (a client's, a server's): it must not keep the feed, nor
    // through it every change published after its position.
    for (let i = 0; i < 100 && getEventListeners(controller.signal, 'abort').length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    expect(collected.deref()).toBeUndefined();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('ends after the consumer breaks out of the loop', async () => {
    const registry = createDynamicRegistry();
    const feed = registry.changes();
    registry.upsert(backend('a'));
    registry.upsert(backend('b'));
    for await (const change of feed) {
      expect(change.version).toBe(1);
      break;
    }
    expect(await feed.next()).toEqual({ done: true, value: undefined });
  });

  it('replays the changes after a retained version', async () => {
    const registry = createDynamicRegistry();
    registry.upsert(backend('a'));
    registry.upsert(backend('b'));
    registry.upsert(backend('c'));
    const feed = registry.changes({ sinceVersion: 1 });
    expect((await take(feed, 2)).map((c) => c.version)).toEqual([2, 3]);
  });

  it('replays everything from the initial version while it is retained', async () => {
    const registry = createDynamicRegistry();
    registry.upsert(backend('a'));
    const feed = registry.changes({ sinceVersion: 0 });
    expect((await take(feed, 1))[0]).toMatchObject({ version: 1, upserted: [backend('a')] });
  });

  it('starts with a reset carrying the whole content when the version is too old', async () => {
    const registry = createDynamicRegistry([], { historyLimit: 2 });
    for (const id of ['a', 'b', 'c', 'd']) registry.upsert(backend(id));
    const feed = registry.changes({ sinceVersion: 1 });
    const [reset] = await take(feed, 1);
    expect(reset).toEqual({
      version: 4,
      upserted: ['a', 'b', 'c', 'd'].map((id) => backend(id)),
      removed: [],
      reset: true,
    });
    registry.remove('a');
    expect((await take(feed, 1))[0]).toEqual({ version: 5, upserted: [], removed: ['a'] });
  });

  it.each([1, 2, 63, 64, 65, 127, 128, 129, 200])(
    'resumes after exactly the last %i versions, change after change',
    async (historyLimit) => {
      const registry = createDynamicRegistry([], { historyLimit });
      for (let last = 1; last <= 300; last++) {
        registry.upsert(backend(`b${last}`));
        for (const since of [
          last - historyLimit - 1,
          last - historyLimit,
          last - historyLimit + 1,
          last - 1,
        ]) {
          if (since < 0 || since >= last) continue;
          const [first] = await take(registry.changes({ sinceVersion: since }), 1);
          if (since < last - historyLimit)
            expect(first).toMatchObject({ reset: true, version: last });
          else
            expect(first).toEqual({
              version: since + 1,
              upserted: [backend(`b${since + 1}`)],
              removed: [],
            });
        }
      }
    },
  );

  it('treats a version the registry never had as too old', async () => {
    const registry = createDynamicRegistry([backend('a')]);
    const [first] = await take(registry.changes({ sinceVersion: 99 }), 1);
    expect(first).toMatchObject({ reset: true, version: 0 });
  });
});

describe('initialVersion', () => {
  it('starts there, steps by one, and treats earlier versions as another history', async () => {
    const start = 1_764_000_000_000_000;
    const registry = createDynamicRegistry([backend('a')], { initialVersion: start });
    expect(registry.version).toBe(start);
    expect(registry.snapshot().version).toBe(start);
    registry.upsert(backend('b'));
    expect(registry.version).toBe(start + 1);
    // From the start: the changes since; from a version of an earlier process: a reset.
    expect((await take(registry.changes({ sinceVersion: start }), 1))[0]).toMatchObject({
      version: start + 1,
      upserted: [backend('b')],
    });
    expect((await take(registry.changes({ sinceVersion: 57 }), 1))[0]).toMatchObject({
      version: start + 1,
      reset: true,
      upserted: [backend('a'), backend('b')],
    });
    expect(await registry.waitForChange(57)).toEqual({ changed: true, version: start + 1 });
  });

  it.each([-1, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN])('rejects %s', (initialVersion) => {
    expect(() => createDynamicRegistry([], { initialVersion })).toThrow(
      /initialVersion must be a non-negative safe integer/,
    );
  });
});

describe('waitForChange', () => {
  it('resolves at once when the version already differs', async () => {
    const registry = createDynamicRegistry();
    registry.upsert(backend('a'));
    await expect(registry.waitForChange(0)).resolves.toEqual({ changed: true, version: 1 });
  });

  it('resolves on the next change', async () => {
    const registry = createDynamicRegistry();
    const waiting = registry.waitForChange(0);
    registry.upsert(backend('a'));
    await expect(waiting).resolves.toEqual({ changed: true, version: 1 });
  });

  it('does not resolve for an upsert that changes nothing', async () => {
    const registry = createDynamicRegistry([backend('a')]);
    const waiting = registry.waitForChange(0, { timeoutMs: 20 });
    registry.upsert(backend('a'));
    await expect(waiting).resolves.toEqual({ changed: false, version: 0 });
  });

  it.each([-1, 86_400_001, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses a timeoutMs of %d with a RangeError naming it and its range',
    async (timeoutMs) => {
      await expect(createDynamicRegistry().waitForChange(0, { timeoutMs })).rejects.toThrow(
        new RangeError(
          `timeoutMs ${timeoutMs} is not a number of milliseconds from 0 to 86400000 (24h)`,
        ),
      );
    },
  );

  it('takes the limits of timeoutMs: 0 gives up at once, a day waits for the change', async () => {
    const registry = createDynamicRegistry();
    await expect(registry.waitForChange(0, { timeoutMs: 0 })).resolves.toEqual({
      changed: false,
      version: 0,
    });
    const waiting = registry.waitForChange(0, { timeoutMs: 86_400_000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    registry.upsert(backend('a'));
    await expect(waiting).resolves.toEqual({ changed: true, version: 1 });
  });

  it('rejects with the abort reason when aborted', async () => {
    const registry = createDynamicRegistry();
    const controller = new AbortController();
    const waiting = registry.waitForChange(0, { signal: controller.signal });
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
