import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConversionOutcome,
  createObjectReader,
  type KubeObjectLike,
  toBackend,
  WORKLOAD_KINDS,
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

const PLANTED = 'PLANTED-SECRET-d41d8cd98f';

/** Values of every JSON shape, including the wrong ones for each field. */
const anything = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
);
const url = fc.oneof(fc.webUrl(), fc.constant(''), fc.string(), fc.constant('ftp://x'), anything);
const phase = fc.oneof(
  fc.constantFrom('Ready', 'Valid', 'Pending', 'Failed', 'Terminating', 'Stopped'),
  anything,
);
const authRef = fc.oneof(
  fc.constant(undefined),
  fc.record({ name: fc.constantFrom('header', 'exchange', 'xaa', 'broken', 'missing', 'obo') }),
  anything,
);

const spec = fc.record(
  {
    transport: fc.oneof(
      fc.constantFrom('stdio', 'sse', 'streamable-http', 'SSE', 'inspector'),
      anything,
    ),
    proxyMode: fc.oneof(fc.constantFrom('sse', 'streamable-http'), anything),
    groupRef: fc.oneof(fc.record({ name: fc.constantFrom('engineering', 'other') }), anything),
    remoteUrl: url,
    externalAuthConfigRef: authRef,
    caBundleRef: fc.oneof(
      fc.constant(undefined),
      fc.record({
        configMapRef: fc.record({
          name: fc.constantFrom('ca', 'nope'),
          key: fc.constantFrom('ca.crt', 'x'),
        }),
      }),
      anything,
    ),
    headerForward: fc.oneof(
      fc.constant(undefined),
      fc.record({
        addPlaintextHeaders: fc.oneof(
          fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
          anything,
        ),
        addHeadersFromSecret: fc.oneof(
          fc.array(
            fc.record({
              headerName: fc.oneof(fc.string(), anything),
              valueSecretRef: fc.oneof(fc.record({ name: fc.string() }), anything),
            }),
            { maxLength: 2 },
          ),
          anything,
        ),
      }),
      anything,
    ),
  },
  { requiredKeys: [] },
);

const workload = fc.record({
  kind: fc.constantFrom(...WORKLOAD_KINDS),
  metadata: fc.oneof(
    fc.record({
      name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), anything),
      namespace: fc.constant(NS),
      annotations: fc.oneof(
        fc.constant(undefined),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
        anything,
      ),
    }),
    anything,
  ),
  spec: fc.oneof(spec, anything),
  status: fc.oneof(fc.record({ url, phase }, { requiredKeys: [] }), anything),
});

const world: KubeObjectLike[] = [
  authConfig('header', {
    type: 'headerInjection',
    headerInjection: { headerName: 'X-Key', valueSecretRef: { name: 's', key: 'k' } },
  }),
  authConfig('exchange', {
    type: 'tokenExchange',
    tokenExchange: { tokenUrl: 'https://idp/t', clientSecretRef: { name: 's', key: 'missing' } },
  }),
  authConfig('xaa', {
    type: 'xaa',
    xaa: {
      idpTokenUrl: 'https://i',
      targetTokenUrl: 'https://t',
      idpClientSecretRef: { name: 's', key: 'k' },
    },
  }),
  authConfig('broken', { type: 'headerInjection', headerInjection: 'nope' }),
  authConfig('obo', { type: 'obo', obo: {} }),
  secret('s', { k: PLANTED }),
  configMap('ca', { 'ca.crt': PEM }),
];

function assertSound(outcome: ConversionOutcome): void {
  if (outcome.kind === 'backend') {
    const { backend } = outcome;
    expect(backend.id).toMatch(/.+/);
    expect(() => new URL(backend.baseUrl)).not.toThrow();
    const auth = backend.authConfig as Record<string, unknown> | undefined;
    if (auth !== undefined) {
      for (const field of [
        'headerValue',
        'clientSecret',
        'idpClientSecret',
        'targetClientSecret',
      ]) {
        if (field in auth) expect(auth[field]).toMatch(/.+/);
      }
    }
  } else if (outcome.kind === 'skip') {
    expect(outcome.message).not.toContain(PLANTED);
  } else {
    expect(outcome.error.message).not.toContain(PLANTED);
  }
}

describe('conversion of arbitrary objects', () => {
  it('never throws, and yields sound backends or reasons without secrets', async () => {
    const reader = createObjectReader(world);
    await fc.assert(
      fc.asyncProperty(workload, async (object) => {
        const outcome = await toBackend(object.kind, object, { reader, group: 'engineering' });
        assertSound(outcome);
      }),
      { numRuns: 1500 },
    );
  });

  it('keeps valid fixtures valid', async () => {
    const reader = createObjectReader(world);
    for (const [kind, object] of [
      ['MCPServer', mcpServer('a', { spec: { externalAuthConfigRef: { name: 'header' } } })],
      ['MCPRemoteProxy', remoteProxy('b')],
      [
        'MCPServerEntry',
        serverEntry('c', { spec: { caBundleRef: { configMapRef: { name: 'ca' } } } }),
      ],
    ] as const) {
      const outcome = await toBackend(kind, object, { reader });
      expect(outcome.kind).toBe('backend');
      assertSound(outcome);
    }
  });
});
