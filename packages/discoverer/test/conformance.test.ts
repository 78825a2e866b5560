/**
 * Inputs the CRDs accept where upstream fails closed or reads Go maps: an auth ref with an empty
 * name, keys named like `Object.prototype` members, `caBundleRef: {}` (upstream spec §3.4, §3.6).
 */
import { describe, expect, it } from 'vitest';
import {
  type ConversionOutcome,
  createObjectReader,
  type KubeObjectLike,
  mcpRemoteProxyToBackend,
  mcpServerEntryToBackend,
  mcpServerToBackend,
  resolveAuth,
  type WorkloadKind,
} from '../src/index.js';
import {
  authConfig,
  configMap,
  mcpServer,
  NS,
  PEM,
  remoteProxy,
  secret,
  serverEntry,
} from './fixtures.js';

type Spec = Record<string, unknown>;
const KINDS: [WorkloadKind, (spec: Spec) => KubeObjectLike, typeof mcpServerToBackend][] = [
  ['MCPServer', (spec) => mcpServer('w', { spec }), mcpServerToBackend],
  ['MCPRemoteProxy', (spec) => remoteProxy('w', { spec }), mcpRemoteProxyToBackend],
  ['MCPServerEntry', (spec) => serverEntry('w', { spec }), mcpServerEntryToBackend],
];

/** Every name `Object.prototype` has, `__proto__` and `constructor` among them. */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

const unauthenticated = authConfig('open', { type: 'unauthenticated' });

describe('an externalAuthConfigRef with an empty name', () => {
  it.each(KINDS)('keeps a %s out, as upstream (not "no auth")', async (_kind, make, convert) => {
    // Even an auth config that could be found by an empty name must not be used.
    const reader = createObjectReader([
      unauthenticated,
      authConfig('', { type: 'unauthenticated' }),
    ]);
    const outcome = await convert(make({ externalAuthConfigRef: { name: '' } }), { reader });
    expect(outcome).toMatchObject({
      kind: 'skip',
      reason: 'auth-unresolved',
      message: expect.stringContaining('externalAuthConfigRef.name is empty'),
    });
  });

  it.each(KINDS)('keeps a %s out when the ref has no name at all', async (_kind, make, convert) => {
    const reader = createObjectReader([unauthenticated]);
    const outcome = await convert(make({ externalAuthConfigRef: {} }), { reader });
    expect(outcome).toMatchObject({ kind: 'skip', reason: 'auth-unresolved' });
  });

  it.each(KINDS)(
    'serves a %s without auth only when the ref is absent',
    async (_kind, make, convert) => {
      const reader = createObjectReader([unauthenticated]);
      for (const spec of [{}, { externalAuthConfigRef: null }]) {
        const outcome = await convert(make(spec), { reader });
        expect(outcome.kind).toBe('backend');
        if (outcome.kind === 'backend') expect(outcome.backend).not.toHaveProperty('authConfig');
      }
      const outcome = await convert(make({ externalAuthConfigRef: { name: 'open' } }), { reader });
      expect(outcome).toMatchObject({ kind: 'backend', backend: { authConfigRef: 'open' } });
    },
  );

  it('is refused by resolveAuth as not found', async () => {
    await expect(resolveAuth('', NS, createObjectReader([]))).rejects.toMatchObject({
      reason: 'not-found',
    });
  });
});

const headerAuth = (key: string) =>
  authConfig('hdr', {
    type: 'headerInjection',
    headerInjection: { headerName: 'X-Key', valueSecretRef: { name: 's', key } },
  });
const withAuth = { externalAuthConfigRef: { name: 'hdr' } };

function expectSkip(outcome: ConversionOutcome, reason: string): void {
  expect(outcome).toMatchObject({ kind: 'skip', reason });
}

describe('keys named like Object.prototype members', () => {
  it.each(PROTOTYPE_NAMES)('a missing Secret key %s is missing, not inherited', async (name) => {
    const reader = createObjectReader([headerAuth(name), secret('s', { other: 'v' })]);
    expectSkip(
      await mcpServerToBackend(mcpServer('w', { spec: withAuth }), { reader }),
      'auth-unresolved',
    );
    await expect(resolveAuth('hdr', NS, reader)).rejects.toMatchObject({
      reason: 'secret-key-missing',
    });
  });

  it.each(PROTOTYPE_NAMES)('a Secret key %s that the Secret has is read', async (name) => {
    const data = JSON.parse(
      `{${JSON.stringify(name)}:${JSON.stringify(Buffer.from('v1').toString('base64'))}}`,
    );
    const own = { ...secret('s', {}), data } as KubeObjectLike;
    const resolved = await resolveAuth('hdr', NS, createObjectReader([headerAuth(name), own]));
    expect(resolved?.strategy).toEqual({
      type: 'header_injection',
      headerName: 'X-Key',
      headerValue: 'v1',
    });
  });

  it.each(PROTOTYPE_NAMES)('a missing ConfigMap key %s keeps the entry out', async (name) => {
    const entry = serverEntry('e', {
      spec: { caBundleRef: { configMapRef: { name: 'ca', key: name } } },
    });
    const reader = createObjectReader([configMap('ca', { 'ca.crt': PEM })]);
    expectSkip(await mcpServerEntryToBackend(entry, { reader }), 'ca-bundle-unresolved');
  });

  it.each(PROTOTYPE_NAMES)('a ConfigMap key %s that the ConfigMap has is read', async (name) => {
    const entry = serverEntry('e', {
      spec: { caBundleRef: { configMapRef: { name: 'ca', key: name } } },
    });
    const own = {
      ...configMap('ca', {}),
      data: JSON.parse(`{${JSON.stringify(name)}:${JSON.stringify(PEM)}}`),
    };
    const outcome = await mcpServerEntryToBackend(entry, { reader: createObjectReader([own]) });
    expect(outcome).toMatchObject({ kind: 'backend', backend: { caBundleData: PEM } });
  });

  it.each(PROTOTYPE_NAMES)(
    'an annotation %s appears in metadata only when the object has it',
    async (name) => {
      const without = await mcpServerToBackend(mcpServer('w', { annotations: { a: 'b' } }), {
        reader: createObjectReader([]),
      });
      if (without.kind !== 'backend') throw new Error(without.kind);
      expect(Object.hasOwn(without.backend.metadata ?? {}, name)).toBe(false);
      expect(Object.hasOwn(JSON.parse(JSON.stringify(without.backend.metadata)), name)).toBe(false);

      const annotations = JSON.parse(`{${JSON.stringify(name)}:"x"}`);
      const object = mcpServer('w');
      (object.metadata as { annotations?: unknown }).annotations = annotations;
      const withIt = await mcpServerToBackend(object, { reader: createObjectReader([]) });
      if (withIt.kind !== 'backend') throw new Error(withIt.kind);
      expect(Object.hasOwn(withIt.backend.metadata ?? {}, name)).toBe(true);
      expect(JSON.parse(JSON.stringify(withIt.backend.metadata))[name]).toBe('x');
      expect(Object.getPrototypeOf(withIt.backend.metadata)).toBe(Object.prototype);
    },
  );

  it.each(PROTOTYPE_NAMES)('a phase %s has unknown health', async (name) => {
    for (const [, make, convert] of KINDS) {
      const object = make({});
      (object.status as Record<string, unknown>).phase = name;
      const outcome = await convert(object, { reader: createObjectReader([]) });
      // An entry that is not Valid is no backend; the others are served with unknown health.
      if (outcome.kind === 'backend') expect(outcome.backend.healthStatus).toBe('unknown');
      else expect(outcome).toMatchObject({ kind: 'skip', reason: 'entry-not-valid' });
    }
  });
});
