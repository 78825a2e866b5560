import { describe, expect, it } from 'vitest';
import {
  BACKEND_HEALTH_STATUSES,
  type Backend,
  createDynamicRegistry,
  createImmutableRegistry,
  InvalidBackendError,
  TRANSPORT_TYPES,
} from '../src/index.js';
import { backend } from './fixtures.js';

describe('createImmutableRegistry', () => {
  it('holds a single backend', () => {
    const registry = createImmutableRegistry([backend('a')]);
    expect(registry.count()).toBe(1);
    expect(registry.get('a')).toEqual(backend('a'));
  });

  it('holds many backends, listed sorted by id', () => {
    const registry = createImmutableRegistry([backend('c'), backend('a'), backend('b')]);
    expect(registry.list().map((b) => b.id)).toEqual(['a', 'b', 'c']);
  });

  it('keeps every health status and every transport', () => {
    const backends = [
      ...BACKEND_HEALTH_STATUSES.map((healthStatus) =>
        backend(`h-${healthStatus}`, { healthStatus }),
      ),
      ...TRANSPORT_TYPES.map((transportType) => backend(`t-${transportType}`, { transportType })),
    ];
    const registry = createImmutableRegistry(backends);
    for (const b of backends) expect(registry.get(b.id)).toEqual(b);
  });

  it('is empty when built from nothing', () => {
    expect(createImmutableRegistry().count()).toBe(0);
    expect(createImmutableRegistry([]).list()).toEqual([]);
  });

  it('keeps a backend with empty metadata and only the required fields', () => {
    const minimal: Backend = {
      id: 'm',
      name: 'm',
      baseUrl: 'http://m',
      transportType: 'sse',
      healthStatus: 'unknown',
      metadata: {},
    };
    expect(createImmutableRegistry([minimal]).get('m')).toEqual(minimal);
  });

  it('lets the last of duplicate ids win', () => {
    const registry = createImmutableRegistry([
      backend('a', { baseUrl: 'http://first' }),
      backend('a', { baseUrl: 'http://second' }),
    ]);
    expect(registry.count()).toBe(1);
    expect(registry.get('a')?.baseUrl).toBe('http://second');
  });

  it('rejects an empty id with a typed error', () => {
    expect(() => createImmutableRegistry([backend('')])).toThrow(InvalidBackendError);
  });

  it('stays at version 0', () => {
    expect(createImmutableRegistry([backend('a')]).version).toBe(0);
  });
});

describe('get', () => {
  const registry = createDynamicRegistry([backend('a'), backend('B')]);

  it('returns the backend for an existing id', () => {
    expect(registry.get('a')?.id).toBe('a');
  });

  it('returns undefined for a missing or empty id', () => {
    expect(registry.get('zzz')).toBeUndefined();
    expect(registry.get('')).toBeUndefined();
  });

  it('is case-sensitive', () => {
    expect(registry.get('b')).toBeUndefined();
    expect(registry.get('A')).toBeUndefined();
    expect(registry.get('B')?.id).toBe('B');
  });

  it('returns a frozen backend that cannot change the store', () => {
    const found = registry.get('a') as Backend;
    expect(Object.isFrozen(found)).toBe(true);
    expect(Object.isFrozen(found.metadata)).toBe(true);
    expect(() => {
      (found as { baseUrl: string }).baseUrl = 'http://evil';
    }).toThrow(TypeError);
    expect(() => {
      found.metadata.extra = 'x';
    }).toThrow(TypeError);
    expect(registry.get('a')?.baseUrl).toBe(backend('a').baseUrl);
  });

  it('serves concurrent readers while a writer changes the store', async () => {
    const dynamic = createDynamicRegistry();
    const writer = (async () => {
      for (let i = 0; i < 200; i++) {
        dynamic.upsert(backend(`w${i % 20}`, { metadata: { i: String(i) } }));
        await Promise.resolve();
      }
    })();
    const readers = Array.from({ length: 10 }, async () => {
      for (let i = 0; i < 200; i++) {
        const { version, backends } = dynamic.snapshot();
        expect(backends.length).toBe(Math.min(20, version));
        await Promise.resolve();
      }
    });
    await Promise.all([writer, ...readers]);
    expect(dynamic.count()).toBe(20);
  });
});

describe('list', () => {
  it('returns every backend with all fields', () => {
    const full = backend('full', {
      type: 'entry',
      caBundlePath: '/etc/ca.crt',
      caBundleData: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      authConfig: { type: 'unauthenticated' },
      authConfigRef: 'none',
      headerForward: {
        addPlaintextHeaders: { 'X-Tenant': 'acme' },
        addHeadersFromSecret: { 'X-Key': 'HEADER_FORWARD_X_KEY_FULL' },
      },
    });
    expect(createDynamicRegistry([full]).list()).toEqual([full]);
  });

  it('returns the same frozen array between changes and a new one after a change', () => {
    const registry = createDynamicRegistry([backend('a')]);
    const first = registry.list();
    expect(registry.list()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    registry.upsert(backend('b'));
    const second = registry.list();
    expect(second).not.toBe(first);
    expect(second.map((b) => b.id)).toEqual(['a', 'b']);
    expect(first.map((b) => b.id)).toEqual(['a']);
  });

  it('is an empty array for an empty registry', () => {
    expect(createDynamicRegistry().list()).toEqual([]);
  });

  it('gives a copy the caller can modify with slice', () => {
    const registry = createDynamicRegistry([backend('a')]);
    const copy = registry.list().slice();
    copy.push(backend('x'));
    expect(registry.count()).toBe(1);
  });
});

describe('snapshot', () => {
  it('reads version and content together', () => {
    const registry = createDynamicRegistry();
    registry.upsert(backend('a'));
    const snapshot = registry.snapshot();
    registry.upsert(backend('b'));
    expect(snapshot).toEqual({ version: 1, backends: [backend('a')] });
    expect(registry.snapshot().version).toBe(2);
  });
});

describe('upsert', () => {
  it('adds a new backend and moves the version by one', () => {
    const registry = createDynamicRegistry();
    expect(registry.upsert(backend('a'))).toBe(true);
    expect(registry.version).toBe(1);
    expect(registry.count()).toBe(1);
  });

  it('updates an existing backend', () => {
    const registry = createDynamicRegistry([backend('a')]);
    expect(registry.upsert(backend('a', { healthStatus: 'unhealthy' }))).toBe(true);
    expect(registry.get('a')?.healthStatus).toBe('unhealthy');
    expect(registry.version).toBe(1);
  });

  it('changes nothing for a deep-equal backend (upstream moves the version here)', () => {
    const registry = createDynamicRegistry([backend('a')]);
    expect(registry.upsert(backend('a'))).toBe(false);
    expect(registry.upsert({ ...backend('a'), metadata: { ...backend('a').metadata } })).toBe(
      false,
    );
    expect(registry.version).toBe(0);
  });

  it('treats an undefined optional field as absent', () => {
    const registry = createDynamicRegistry([backend('a')]);
    expect(registry.upsert({ ...backend('a'), authConfig: undefined })).toBe(false);
    expect(registry.get('a')).not.toHaveProperty('authConfig');
  });

  it('rejects an empty id with a typed error and changes nothing', () => {
    const registry = createDynamicRegistry();
    const attempt = () => registry.upsert(backend(''));
    expect(attempt).toThrow(InvalidBackendError);
    expect(attempt).toThrow(/non-empty/);
    expect(registry.version).toBe(0);
    expect(registry.count()).toBe(0);
  });

  it('rejects a value that is not an object', () => {
    const registry = createDynamicRegistry();
    expect(() => registry.upsert(null as unknown as Backend)).toThrow(InvalidBackendError);
  });

  it('keeps later changes to the caller object out of the store', () => {
    const registry = createDynamicRegistry();
    const input = backend('a');
    registry.upsert(input);
    input.baseUrl = 'http://changed';
    input.metadata.extra = 'leak';
    expect(registry.get('a')?.baseUrl).toBe(backend('a').baseUrl);
    expect(registry.get('a')?.metadata).not.toHaveProperty('extra');
    expect(Object.isFrozen(input)).toBe(false);
  });

  it('stores keys named like Object.prototype members as data, __proto__ included', () => {
    const registry = createDynamicRegistry();
    // As JSON has them: `__proto__` an own key of the parsed object.
    const metadata = JSON.parse('{"__proto__":"p","constructor":"c","toString":"t"}');
    const headers = JSON.parse('{"__proto__":"v"}');
    registry.upsert({ ...backend('a'), metadata, headerForward: { addPlaintextHeaders: headers } });
    const stored = registry.get('a') as Backend;
    expect(Object.keys(stored.metadata).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getPrototypeOf(stored.metadata)).toBe(Object.prototype);
    expect(JSON.stringify(stored.headerForward)).toBe('{"addPlaintextHeaders":{"__proto__":"v"}}');
    // The same content again is no change; another value for the key is one.
    const version = registry.version;
    registry.upsert({
      ...backend('a'),
      metadata: JSON.parse(JSON.stringify(metadata)),
      headerForward: { addPlaintextHeaders: JSON.parse('{"__proto__":"v"}') },
    });
    expect(registry.version).toBe(version);
    registry.upsert({
      ...backend('a'),
      metadata: JSON.parse('{"__proto__":"q","constructor":"c","toString":"t"}'),
      headerForward: { addPlaintextHeaders: headers },
    });
    expect(registry.version).toBe(version + 1);
  });
});

describe('remove', () => {
  it('removes an existing backend and moves the version by one', () => {
    const registry = createDynamicRegistry([backend('a')]);
    expect(registry.remove('a')).toBe(true);
    expect(registry.get('a')).toBeUndefined();
    expect(registry.version).toBe(1);
  });

  it('changes nothing for an absent id (upstream moves the version here)', () => {
    const registry = createDynamicRegistry([backend('a')]);
    expect(registry.remove('zzz')).toBe(false);
    expect(registry.remove('')).toBe(false);
    expect(registry.version).toBe(0);
  });

  it('removes one among many', () => {
    const registry = createDynamicRegistry([backend('a'), backend('b'), backend('c')]);
    registry.remove('b');
    expect(registry.list().map((b) => b.id)).toEqual(['a', 'c']);
  });
});

describe('version', () => {
  it('starts at 0 whatever the initial content', () => {
    expect(createDynamicRegistry().version).toBe(0);
    expect(createDynamicRegistry([backend('a'), backend('b')]).version).toBe(0);
  });

  it('moves by exactly one per change and never goes back', () => {
    const registry = createDynamicRegistry();
    const seen: number[] = [registry.version];
    registry.upsert(backend('a'));
    seen.push(registry.version);
    registry.upsert(backend('a', { name: 'renamed' }));
    seen.push(registry.version);
    registry.upsert(backend('a', { name: 'renamed' }));
    seen.push(registry.version);
    registry.remove('a');
    seen.push(registry.version);
    registry.remove('a');
    seen.push(registry.version);
    expect(seen).toEqual([0, 1, 2, 2, 3, 3]);
  });
});

describe('apply', () => {
  it('applies several operations with one version step', () => {
    const registry = createDynamicRegistry([backend('a'), backend('b')]);
    const change = registry.apply([
      { op: 'upsert', backend: backend('c') },
      { op: 'remove', id: 'a' },
      { op: 'upsert', backend: backend('b', { healthStatus: 'degraded' }) },
    ]);
    expect(registry.version).toBe(1);
    expect(change).toEqual({
      version: 1,
      upserted: [backend('b', { healthStatus: 'degraded' }), backend('c')],
      removed: ['a'],
    });
    expect(registry.list().map((b) => b.id)).toEqual(['b', 'c']);
  });

  it('changes nothing and returns undefined when the net effect is empty', () => {
    const registry = createDynamicRegistry([backend('a')]);
    expect(
      registry.apply([
        { op: 'upsert', backend: backend('a') },
        { op: 'remove', id: 'missing' },
        { op: 'upsert', backend: backend('tmp') },
        { op: 'remove', id: 'tmp' },
      ]),
    ).toBeUndefined();
    expect(registry.version).toBe(0);
  });

  it('uses the last operation for an id', () => {
    const registry = createDynamicRegistry([backend('a')]);
    registry.apply([
      { op: 'remove', id: 'a' },
      { op: 'upsert', backend: backend('a', { name: 'again' }) },
    ]);
    expect(registry.get('a')?.name).toBe('again');
    expect(registry.version).toBe(1);
  });

  it('validates every operation before changing anything', () => {
    const registry = createDynamicRegistry([backend('a')]);
    expect(() =>
      registry.apply([
        { op: 'remove', id: 'a' },
        { op: 'upsert', backend: backend('') },
      ]),
    ).toThrow(InvalidBackendError);
    expect(registry.get('a')).toBeDefined();
    expect(registry.version).toBe(0);
  });
});
