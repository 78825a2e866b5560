import {
  createObjectReader,
  type KubeObjectLike,
  toBackend,
  type WorkloadKind,
} from '@vmcp/discoverer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SECRET = 'FUZZ-PLANTED-SECRET-9d1f';
const KINDS: WorkloadKind[] = ['MCPServer', 'MCPRemoteProxy', 'MCPServerEntry'];
const AUTH_TYPES = [
  'unauthenticated',
  'headerInjection',
  'tokenExchange',
  'upstreamInject',
  'awsSts',
  'xaa',
  'obo',
  'bearerToken',
  'embeddedAuthServer',
  'nonsense',
];

// Any JSON value, weighted towards the shapes that confuse converters: wrong types, empties,
// huge strings, unicode, nested nonsense.
const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(''),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constant('x'.repeat(100_000)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const url = fc.oneof(
  fc.constant('http://ok.svc:8080'),
  fc.constant('https://ok.example.com/mcp'),
  fc.constant('ftp://nope'),
  fc.constant('not a url'),
  fc.constant('http://'),
  fc.webUrl(),
  junk,
);

const workload = fc.record({
  apiVersion: maybe(fc.constant('toolhive.stacklok.dev/v1beta1')),
  kind: maybe(fc.constantFrom(...KINDS)),
  metadata: fc.oneof(
    junk,
    fc.record({
      name: fc.oneof(
        fc.constant('w'),
        fc.constant('a'.repeat(253)),
        fc.string({ unit: 'grapheme', maxLength: 10 }),
        junk,
      ),
      namespace: fc.oneof(fc.constant('default'), junk),
      annotations: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string(), junk), { maxKeys: 3 }),
        junk,
      ),
    }),
  ),
  spec: fc.oneof(
    junk,
    fc.record({
      groupRef: fc.oneof(
        fc.record({ name: fc.oneof(fc.constant('g'), junk) }),
        fc.constant('g'),
        junk,
      ),
      transport: fc.oneof(
        fc.constantFrom('stdio', 'sse', 'streamable-http', 'inspector', 'SSE', 'pigeon'),
        junk,
      ),
      proxyMode: fc.oneof(fc.constantFrom('sse', 'streamable-http'), junk),
      remoteUrl: url,
      externalAuthConfigRef: fc.oneof(
        fc.record({ name: fc.oneof(fc.constant('auth'), junk) }),
        junk,
      ),
      caBundleRef: fc.oneof(
        fc.record({
          configMapRef: fc.oneof(
            fc.record({
              name: fc.oneof(fc.constant('ca'), junk),
              key: maybe(fc.oneof(fc.constant('ca.crt'), junk)),
            }),
            junk,
          ),
        }),
        junk,
      ),
      headerForward: fc.oneof(
        fc.record({
          addPlaintextHeaders: fc.oneof(
            fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })),
            junk,
          ),
          addHeadersFromSecret: fc.oneof(
            fc.array(
              fc.record({
                headerName: fc.oneof(fc.string({ maxLength: 10 }), junk),
                valueSecretRef: fc.oneof(
                  fc.record({ name: fc.constant('s'), key: fc.constant('k') }),
                  junk,
                ),
              }),
              { maxLength: 2 },
            ),
            junk,
          ),
        }),
        junk,
      ),
    }),
  ),
  status: fc.oneof(
    junk,
    fc.record({
      phase: fc.oneof(fc.constantFrom('Ready', 'Valid', 'Failed', 'Pending'), junk),
      url,
    }),
  ),
});

// Well-formed workloads of our group, varied only where conversion decides. Without them a
// backend is a rare outcome of the junk above: some runs of 3000 reached none.
const OK_URL = fc.constantFrom('http://ok.svc:8080', 'https://ok.example.com/mcp');
const wellFormedWorkload = fc.record({
  apiVersion: fc.constant('toolhive.stacklok.dev/v1beta1'),
  metadata: fc.record({
    name: fc.constant('w'),
    namespace: fc.constant('default'),
    annotations: maybe(
      fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
    ),
  }),
  spec: fc.record({
    groupRef: fc.constant({ name: 'g' }),
    transport: fc.constantFrom('stdio', 'sse', 'streamable-http'),
    remoteUrl: OK_URL,
    externalAuthConfigRef: maybe(fc.constant({ name: 'auth' })),
  }),
  status: fc.record({
    phase: fc.constantFrom('Ready', 'Valid'),
    url: fc.oneof(
      { arbitrary: OK_URL, weight: 4 },
      { arbitrary: fc.constantFrom('', 'ftp://nope', 'not a url'), weight: 1 },
    ),
  }),
});

const authConfig = fc.record({
  apiVersion: fc.constant('toolhive.stacklok.dev/v1beta1'),
  kind: fc.constant('MCPExternalAuthConfig'),
  metadata: fc.constant({ name: 'auth', namespace: 'default' }),
  spec: fc.oneof(
    junk,
    fc.record({
      type: fc.oneof(fc.constantFrom(...AUTH_TYPES), junk),
      headerInjection: fc.oneof(
        fc.record({
          headerName: fc.oneof(fc.constant('X-Key'), junk),
          valueSecretRef: fc.oneof(
            fc.record({
              name: fc.oneof(fc.constant('s'), junk),
              key: fc.oneof(fc.constant('k'), fc.constant('missing'), junk),
            }),
            junk,
          ),
        }),
        junk,
      ),
      tokenExchange: fc.oneof(
        fc.record({
          tokenUrl: url,
          audience: maybe(fc.string()),
          clientSecretRef: fc.oneof(
            fc.record({ name: fc.constant('s'), key: fc.constant('k') }),
            junk,
          ),
          subjectTokenType: maybe(
            fc.oneof(fc.constantFrom('access_token', 'id_token', 'jwt'), junk),
          ),
        }),
        junk,
      ),
      xaa: fc.oneof(
        fc.record({
          idpTokenUrl: url,
          targetTokenUrl: url,
          idpClientSecretRef: fc.oneof(
            fc.record({ name: fc.constant('s'), key: fc.constant('k') }),
            junk,
          ),
        }),
        junk,
      ),
      awsSts: fc.oneof(
        fc.record({
          region: fc.oneof(fc.constant('eu-west-1'), junk),
          roleMappings: fc.oneof(
            fc.array(
              fc.record({
                roleArn: fc.oneof(fc.string(), junk),
                priority: fc.oneof(fc.integer(), junk),
              }),
              { maxLength: 2 },
            ),
            junk,
          ),
        }),
        junk,
      ),
      upstreamInject: fc.oneof(
        fc.record({ providerName: fc.oneof(fc.constant('github'), junk) }),
        junk,
      ),
    }),
  ),
});

const secret = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Secret'),
  metadata: fc.constant({ name: 's', namespace: 'default' }),
  data: fc.oneof(
    fc.constant({ k: Buffer.from(SECRET).toString('base64') }),
    fc.constant({ k: '' }),
    fc.constant({ other: Buffer.from(SECRET).toString('base64') }),
    junk,
  ),
});

const configMap = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('ConfigMap'),
  metadata: fc.constant({ name: 'ca', namespace: 'default' }),
  data: fc.oneof(fc.constant({ 'ca.crt': 'PEM' }), junk),
});

describe('discoverer conversion under random input', () => {
  it('never throws, returns one of its documented outcomes, and never a backend with a non-http(s) URL', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KINDS),
        fc.oneof(workload, wellFormedWorkload),
        maybe(authConfig),
        maybe(secret),
        maybe(configMap),
        async (kind, object, auth, s, cm) => {
          const reader = createObjectReader([auth, s, cm].filter(Boolean) as KubeObjectLike[]);
          const outcome = await toBackend(kind, object, { reader, group: 'g' });
          expect(['backend', 'skip', 'error']).toContain(outcome.kind);
          const label = outcome.kind === 'skip' ? outcome.reason : outcome.kind;
          seen.set(label, (seen.get(label) ?? 0) + 1);
          if (outcome.kind === 'backend') {
            const { protocol } = new URL(outcome.backend.baseUrl);
            expect(['http:', 'https:']).toContain(protocol);
            expect(outcome.backend.id).toBeTypeOf('string');
            expect(outcome.backend.id).not.toBe('');
            expect(
              Object.values(outcome.backend.metadata).every((v) => typeof v === 'string'),
            ).toBe(true);
          }
          if (outcome.kind === 'skip') expect(outcome.message).toBeTypeOf('string');
        },
      ),
      { numRuns: 3000 },
    );
    // The generator reaches every outcome, so the properties above were really exercised.
    for (const label of [
      'backend',
      'other-group',
      'no-url',
      'invalid-url',
      'auth-unresolved',
      'invalid-object',
      'entry-not-valid',
    ]) {
      expect(seen.get(label) ?? 0, `${label} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    }
  });

  it('never puts a Secret value into a skip reason or an error message', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KINDS),
        workload,
        authConfig,
        secret,
        async (kind, object, auth, s) => {
          const reader = createObjectReader([auth, s] as KubeObjectLike[]);
          const outcome = await toBackend(kind, object, { reader, group: 'g' });
          if (outcome.kind === 'skip') expect(outcome.message).not.toContain(SECRET);
          if (outcome.kind === 'error') {
            expect(outcome.error.message).not.toContain(SECRET);
            expect(String(outcome.error.stack)).not.toContain(SECRET);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('keeps a backend whose auth cannot be resolved out, whatever the auth config says', async () => {
    await fc.assert(
      fc.asyncProperty(authConfig, secret, async (auth, s) => {
        const object = {
          apiVersion: 'toolhive.stacklok.dev/v1beta1',
          kind: 'MCPServer',
          metadata: { name: 'w', namespace: 'default' },
          spec: {
            groupRef: { name: 'g' },
            transport: 'sse',
            externalAuthConfigRef: { name: 'auth' },
          },
          status: { phase: 'Ready', url: 'http://w:8080' },
        };
        const outcome = await toBackend('MCPServer', object, {
          reader: createObjectReader([auth, s] as KubeObjectLike[]),
          group: 'g',
        });
        if (outcome.kind === 'backend') {
          // A served backend has a complete strategy: never one with a missing secret value.
          const strategy = outcome.backend.authConfig as Record<string, unknown> | undefined;
          expect(strategy?.type).toBeTypeOf('string');
          if (strategy?.type === 'header_injection') expect(strategy.headerValue).toBe(SECRET);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
