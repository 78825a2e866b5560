import { describe, expect, it } from 'vitest';
import { createDynamicRegistry, memoByVersion, VersionedCache } from '../src/index.js';
import { backend } from './fixtures.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('VersionedCache', () => {
  it('computes nothing until read', () => {
    const registry = createDynamicRegistry();
    const cache = new VersionedCache(registry, () => registry.count());
    registry.upsert(backend('a'));
    expect(cache.computations).toBe(0);
  });

  it('recomputes only when the version moved', async () => {
    const registry = createDynamicRegistry([backend('a')]);
    const cache = new VersionedCache(registry, () => registry.list().map((b) => b.id));
    expect(await cache.get()).toEqual(['a']);
    expect(await cache.get()).toEqual(['a']);
    expect(cache.computations).toBe(1);
    registry.upsert(backend('a')); // no change of content, no new version
    await cache.get();
    expect(cache.computations).toBe(1);
    registry.upsert(backend('b'));
    expect(await cache.get()).toEqual(['a', 'b']);
    expect(cache.computations).toBe(2);
    expect(cache.cachedVersion).toBe(1);
  });

  it('shares one computation among concurrent readers', async () => {
    const registry = createDynamicRegistry();
    const gate = deferred<number>();
    const cache = new VersionedCache(registry, () => gate.promise);
    const readers = Array.from({ length: 100 }, () => cache.get());
    gate.resolve(42);
    expect(await Promise.all(readers)).toEqual(Array(100).fill(42));
    expect(cache.computations).toBe(1);
  });

  it('does not cache an error', async () => {
    const registry = createDynamicRegistry();
    let attempt = 0;
    const cache = new VersionedCache(registry, () => {
      attempt++;
      if (attempt === 1) throw new Error('backend unreachable');
      return 'ok';
    });
    await expect(cache.get()).rejects.toThrow('backend unreachable');
    await expect(cache.get()).resolves.toBe('ok');
    expect(cache.computations).toBe(2);
  });

  it('recomputes for a reader that arrives after the version moved mid-computation', async () => {
    const registry = createDynamicRegistry();
    const gates = [deferred<string>(), deferred<string>()];
    let call = 0;
    const cache = new VersionedCache(
      registry,
      () => (gates[call++] as { promise: Promise<string> }).promise,
    );
    const early = cache.get();
    registry.upsert(backend('a'));
    const late = cache.get();
    gates[1]?.resolve('v1');
    gates[0]?.resolve('v0');
    expect(await early).toBe('v0');
    expect(await late).toBe('v1');
    // The older result finished last but does not replace the newer one.
    expect(cache.cachedVersion).toBe(1);
    expect(await cache.get()).toBe('v1');
    expect(cache.computations).toBe(2);
  });

  it('recomputes after invalidate', async () => {
    const registry = createDynamicRegistry();
    const cache = new VersionedCache(registry, () => 'x');
    await cache.get();
    cache.invalidate();
    await cache.get();
    expect(cache.computations).toBe(2);
  });
});

describe('memoByVersion', () => {
  it('returns a reader that recomputes lazily', async () => {
    const registry = createDynamicRegistry();
    let computed = 0;
    const read = memoByVersion(registry, (version) => {
      computed++;
      return version * 10;
    });
    expect(await read()).toBe(0);
    expect(await read()).toBe(0);
    registry.upsert(backend('a'));
    expect(await read()).toBe(10);
    expect(computed).toBe(2);
  });
});
