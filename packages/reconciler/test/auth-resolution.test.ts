import type { ConversionOutcome } from '@vmcp/discoverer';
import type { Backend, BackendAuthStrategy } from '@vmcp/registry';
import { describe, expect, it } from 'vitest';
import {
  type AuthResolution,
  authSourceOf,
  type OutgoingAuthConfig,
  parseOutgoingAuth,
  resolveBackendAuth,
  withOutgoingAuth,
} from '../src/index.js';

const discovered: BackendAuthStrategy = {
  type: 'token_exchange',
  tokenUrl: 'https://sso/token',
  clientSecret: 'from-a-secret',
};
const header = (value: string) => ({
  type: 'header_injection' as const,
  headerInjection: { headerName: 'X-Key', headerValue: value },
});
const strategyOf = (value: string): BackendAuthStrategy => ({
  type: 'header_injection',
  headerName: 'X-Key',
  headerValue: value,
});
const auth = (config: OutgoingAuthConfig) => parseOutgoingAuth(config, { env: {} });

const BACKEND = { backends: { fetch: header('for-fetch') } };
const DEFAULT = { default: header('by-default') };
const BOTH = { ...BACKEND, ...DEFAULT };
const fromBackends: AuthResolution = {
  from: 'backends',
  configured: { path: 'outgoingAuth.backends.fetch', strategy: strategyOf('for-fetch') },
};
const fromDefault: AuthResolution = {
  from: 'default',
  configured: { path: 'outgoingAuth.default', strategy: strategyOf('by-default') },
};

describe('resolveBackendAuth: one row per case of upstream’s resolution', () => {
  it.each<[string, OutgoingAuthConfig | undefined, boolean, AuthResolution]>([
    // No config: what the watcher does without one.
    ['no config, discovered auth', undefined, true, { from: 'discovered' }],
    ['no config, no discovered auth', undefined, false, { from: 'none' }],
    // discovered: the workload's own auth first.
    [
      'discovered, discovered auth beats backends and default',
      { source: 'discovered', ...BOTH },
      true,
      { from: 'discovered' },
    ],
    [
      'discovered, none discovered: backends.<name>',
      { source: 'discovered', ...BOTH },
      false,
      fromBackends,
    ],
    [
      'discovered, none discovered, no entry: default',
      { source: 'discovered', ...DEFAULT },
      false,
      fromDefault,
    ],
    [
      'discovered, none discovered, nothing configured: none',
      { source: 'discovered' },
      false,
      { from: 'none' },
    ],
    [
      'discovered, an entry for another name: default',
      { source: 'discovered', backends: { other: header('x') }, ...DEFAULT },
      false,
      fromDefault,
    ],
    // inline: the file only, discovered auth ignored.
    [
      'inline, discovered auth ignored for backends.<name>',
      { source: 'inline', ...BOTH },
      true,
      fromBackends,
    ],
    [
      'inline, discovered auth ignored for default',
      { source: 'inline', ...DEFAULT },
      true,
      fromDefault,
    ],
    [
      'inline, discovered auth ignored, nothing configured: none',
      { source: 'inline' },
      true,
      { from: 'none' },
    ],
    [
      'inline, none discovered: backends.<name>',
      { source: 'inline', ...BOTH },
      false,
      fromBackends,
    ],
    [
      'inline, none discovered, nothing configured: none',
      { source: 'inline' },
      false,
      { from: 'none' },
    ],
    // No source is inline, as upstream.
    ['no source, discovered auth ignored', { ...BOTH }, true, fromBackends],
    ['no source, default', { ...DEFAULT }, true, fromDefault],
  ])('%s', (_row, config, hasDiscovered, expected) => {
    const resolution = resolveBackendAuth(
      'fetch',
      hasDiscovered ? discovered : undefined,
      config === undefined ? undefined : auth(config),
    );
    expect(resolution).toEqual(expected);
  });
});

describe('withOutgoingAuth', () => {
  const backend: Backend = {
    id: 'fetch',
    name: 'fetch',
    baseUrl: 'http://fetch:8080',
    transportType: 'streamable-http',
    healthStatus: 'healthy',
    authConfig: discovered,
    authConfigRef: 'fetch-auth',
    metadata: { group: 'engineering' },
  };
  const converted: ConversionOutcome = { kind: 'backend', backend };
  const WHERE = 'MCPServer tools/fetch';

  it('keeps the discovered strategy and its authConfigRef when it wins', () => {
    expect(withOutgoingAuth(converted, auth({ source: 'discovered', ...BOTH }), WHERE)).toBe(
      converted,
    );
    expect(withOutgoingAuth(converted, undefined, WHERE)).toBe(converted);
  });

  it('puts a strategy of the file in place of the discovered one, without its authConfigRef', () => {
    const outcome = withOutgoingAuth(converted, auth({ source: 'inline', ...BACKEND }), WHERE);
    expect(outcome).toEqual({
      kind: 'backend',
      backend: { ...backend, authConfig: strategyOf('for-fetch'), authConfigRef: undefined },
    });
    expect(outcome.kind === 'backend' && 'authConfigRef' in outcome.backend).toBe(false);
  });

  it('drops the discovered auth under inline when nothing is configured for the name', () => {
    const outcome = withOutgoingAuth(converted, auth({ source: 'inline' }), WHERE);
    expect(outcome.kind === 'backend' && Object.keys(outcome.backend)).toEqual([
      'id',
      'name',
      'baseUrl',
      'transportType',
      'healthStatus',
      'metadata',
    ]);
  });

  it('keeps out a backend whose configured strategy cannot be served (obo), naming where it is', () => {
    const obo = { type: 'obo' as const, obo: { tokenUrl: 'https://login/token' } };
    expect(withOutgoingAuth(converted, auth({ source: 'inline', default: obo }), WHERE)).toEqual({
      kind: 'skip',
      reason: 'auth-unresolved',
      message: expect.stringMatching(
        /^MCPServer tools\/fetch: outgoingAuth\.default: type obo needs the enterprise build/,
      ),
    });
    // A discovered strategy that wins leaves an unservable default unused.
    expect(withOutgoingAuth(converted, auth({ source: 'discovered', default: obo }), WHERE)).toBe(
      converted,
    );
  });

  it.each<[string, ConversionOutcome]>([
    [
      'a broken auth reference',
      { kind: 'skip', reason: 'auth-unresolved', message: 'no such config' },
    ],
    ['a definitive read failure', { kind: 'error', error: new Error('403') }],
    ['a transient read failure', { kind: 'unavailable', error: new Error('ECONNREFUSED') }],
    ['no URL yet', { kind: 'skip', reason: 'no-url', message: 'no status.url' }],
  ])('leaves %s as it is, also under inline with a default', (_name, outcome) => {
    expect(withOutgoingAuth(outcome, auth({ source: 'inline', ...BOTH }), WHERE)).toBe(outcome);
  });
});

describe('authSourceOf', () => {
  const backend = (extra: Partial<Backend> = {}): Backend => ({
    id: 'fetch',
    name: 'fetch',
    baseUrl: 'http://fetch:8080',
    transportType: 'sse',
    healthStatus: 'healthy',
    metadata: {},
    ...extra,
  });
  it.each<[string, Backend, OutgoingAuthConfig | undefined, string]>([
    [
      'its own auth (a ref)',
      backend({ authConfig: discovered, authConfigRef: 'a' }),
      { source: 'discovered', ...BOTH },
      'discovered',
    ],
    ['no config, no auth', backend(), undefined, 'none'],
    [
      'the entry for its name',
      backend({ authConfig: strategyOf('for-fetch') }),
      { source: 'inline', ...BOTH },
      'outgoingAuth.backends.fetch',
    ],
    [
      'the default',
      backend({ authConfig: strategyOf('by-default') }),
      { source: 'discovered', ...DEFAULT },
      'outgoingAuth.default',
    ],
    ['nothing configured', backend(), { source: 'inline' }, 'none'],
  ])('%s', (_name, resolved, config, source) => {
    expect(authSourceOf(resolved, config === undefined ? undefined : auth(config))).toBe(source);
  });
});
