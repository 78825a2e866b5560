import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  AUTH_STRATEGY_CONFIG_TYPES,
  OutgoingAuth,
  OutgoingAuthConfigError,
  parseAuthStrategy,
  parseOutgoingAuth,
} from '../src/index.js';

const ENV = { FETCH_KEY: 'from-env-fetch', TE_SECRET: 'from-env-te', EMPTY: '' };
const PATH = 'outgoingAuth.default';

/** The `outgoingAuth` of a YAML document, parsed as the sidecar parses it. */
const fromYaml = (text: string) =>
  parseOutgoingAuth((parse(text) as { outgoingAuth: unknown }).outgoingAuth, { env: ENV });
const strategyOf = (value: unknown) => parseAuthStrategy(value, PATH, ENV);

describe('a strategy as the file spells it', () => {
  it.each([
    ['unauthenticated', { type: 'unauthenticated' }, { type: 'unauthenticated' }],
    [
      'header_injection with an inline value',
      { type: 'header_injection', headerInjection: { headerName: 'X-Api-Key', headerValue: 'v1' } },
      { type: 'header_injection', headerName: 'X-Api-Key', headerValue: 'v1' },
    ],
    [
      'header_injection with headerValueEnv, read from the environment',
      {
        type: 'header_injection',
        headerInjection: { headerName: 'Authorization', headerValueEnv: 'FETCH_KEY' },
      },
      { type: 'header_injection', headerName: 'Authorization', headerValue: 'from-env-fetch' },
    ],
    [
      'token_exchange, subject token type normalised as the discoverer does',
      {
        type: 'token_exchange',
        tokenExchange: {
          tokenUrl: 'https://sso.example/token',
          clientId: 'vmcp',
          clientSecretEnv: 'TE_SECRET',
          audience: 'backend',
          scopes: ['read', 'write'],
          subjectTokenType: 'id_token',
          subjectProviderName: 'okta',
        },
      },
      {
        type: 'token_exchange',
        tokenUrl: 'https://sso.example/token',
        clientId: 'vmcp',
        clientSecret: 'from-env-te',
        audience: 'backend',
        scopes: ['read', 'write'],
        subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token',
        subjectProviderName: 'okta',
      },
    ],
    [
      'upstream_inject',
      { type: 'upstream_inject', upstreamInject: { providerName: 'github' } },
      { type: 'upstream_inject', providerName: 'github' },
    ],
    [
      'upstream_inject without a provider: the runtime default upstream, as upstream',
      { type: 'upstream_inject', upstreamInject: {} },
      { type: 'upstream_inject', providerName: 'default' },
    ],
    [
      'aws_sts with role mappings',
      {
        type: 'aws_sts',
        awsSts: {
          region: 'eu-west-1',
          service: 'bedrock',
          fallbackRoleArn: 'arn:aws:iam::1:role/fallback',
          roleMappings: [{ claim: 'admins', roleArn: 'arn:aws:iam::1:role/admin', priority: 1 }],
          roleClaim: 'groups',
          sessionDuration: 3600,
          sessionNameClaim: 'sub',
        },
      },
      {
        type: 'aws_sts',
        region: 'eu-west-1',
        service: 'bedrock',
        fallbackRoleArn: 'arn:aws:iam::1:role/fallback',
        roleMappings: [{ claim: 'admins', roleArn: 'arn:aws:iam::1:role/admin', priority: 1 }],
        roleClaim: 'groups',
        sessionDuration: 3600,
        sessionNameClaim: 'sub',
      },
    ],
    [
      'xaa with both client secrets',
      {
        type: 'xaa',
        xaa: {
          idpTokenUrl: 'https://idp.example/token',
          idpClientSecret: 'idp-inline',
          targetTokenUrl: 'http://target.internal/token',
          insecureTargetTokenUrl: true,
          targetClientSecretEnv: 'TE_SECRET',
          targetAudience: 'https://target.example',
          scopes: ['mcp'],
        },
      },
      {
        type: 'xaa',
        idpTokenUrl: 'https://idp.example/token',
        idpClientSecret: 'idp-inline',
        targetTokenUrl: 'http://target.internal/token',
        insecureTargetTokenUrl: true,
        targetClientSecret: 'from-env-te',
        targetAudience: 'https://target.example',
        scopes: ['mcp'],
      },
    ],
  ])('maps %s to the registry strategy', (_name, value, strategy) => {
    expect(strategyOf(value)).toEqual({ path: PATH, strategy });
  });

  it('checks obo in full, and makes the backends it applies to unservable (enterprise only)', () => {
    const obo = {
      type: 'obo',
      obo: { tokenUrl: 'https://login.example/token', clientSecretEnv: 'TE_SECRET' },
    };
    expect(strategyOf(obo)).toEqual({
      path: PATH,
      unservable: expect.stringContaining('type obo needs the enterprise build'),
    });
    expect(() =>
      strategyOf({ type: 'obo', obo: { tokenUrl: 'https://x', clientSecretEnv: 'UNSET' } }),
    ).toThrow('environment variable UNSET is not set or empty');
  });

  it('knows exactly upstream’s seven types', () => {
    expect(AUTH_STRATEGY_CONFIG_TYPES).toEqual([
      'unauthenticated',
      'header_injection',
      'token_exchange',
      'upstream_inject',
      'aws_sts',
      'obo',
      'xaa',
    ]);
  });

  const header = (fields: object) => ({ type: 'header_injection', headerInjection: fields });
  it.each([
    ['not a mapping', 'header_injection', PATH, 'must be a mapping, got a string'],
    ['a list', [], PATH, 'must be a mapping, got a list'],
    ['no type', { headerInjection: {} }, `${PATH}.type`, 'is required'],
    ['a type that is not a string', { type: 7 }, `${PATH}.type`, 'must be a string, got a number'],
    [
      'an unknown type, named',
      { type: 'bearer' },
      `${PATH}.type`,
      'unknown strategy type "bearer"; known: unauthenticated, header_injection, token_exchange, upstream_inject, aws_sts, obo, xaa',
    ],
    [
      "the CRD's spelling of a type",
      { type: 'headerInjection' },
      `${PATH}.type`,
      'unknown strategy type "headerInjection"',
    ],
    [
      'no section for the type',
      { type: 'header_injection' },
      `${PATH}.headerInjection`,
      'is required for type header_injection',
    ],
    [
      'the section of another type',
      { type: 'unauthenticated', tokenExchange: { tokenUrl: 'https://x' } },
      `${PATH}.tokenExchange`,
      'is set, but type is unauthenticated',
    ],
    [
      'an unknown key at the top',
      { type: 'unauthenticated', metadata: {} },
      `${PATH}.metadata`,
      'unknown key; known here: type, headerInjection, tokenExchange, upstreamInject, awsSts, obo, xaa',
    ],
    [
      'a misspelt key in a section',
      header({ headerName: 'X', headerValu: 'v' }),
      `${PATH}.headerInjection.headerValu`,
      'unknown key; known here: headerName, headerValue, headerValueEnv',
    ],
    [
      'both headerValue and headerValueEnv',
      header({ headerName: 'X', headerValue: 'v', headerValueEnv: 'FETCH_KEY' }),
      `${PATH}.headerInjection`,
      'set headerValue or headerValueEnv, not both',
    ],
    [
      'neither headerValue nor headerValueEnv',
      header({ headerName: 'X' }),
      `${PATH}.headerInjection`,
      'one of headerValue or headerValueEnv is required',
    ],
    [
      'an unset variable, named',
      header({ headerName: 'X', headerValueEnv: 'NOT_THERE' }),
      `${PATH}.headerInjection.headerValueEnv`,
      'environment variable NOT_THERE is not set or empty',
    ],
    [
      'an empty variable, named',
      header({ headerName: 'X', headerValueEnv: 'EMPTY' }),
      `${PATH}.headerInjection.headerValueEnv`,
      'environment variable EMPTY is not set or empty',
    ],
    [
      'a variable named like an Object.prototype member',
      header({ headerName: 'X', headerValueEnv: 'constructor' }),
      `${PATH}.headerInjection.headerValueEnv`,
      'the environment variable it names (not shown: it does not look like a variable name) is not set or empty',
    ],
    [
      'the token itself where the variable name goes, not shown',
      header({ headerName: 'X', headerValueEnv: 'sk-live-4f9a2c' }),
      `${PATH}.headerInjection.headerValueEnv`,
      'the environment variable it names (not shown: it does not look like a variable name) is not set or empty',
    ],
    [
      'a token where a key goes, not shown',
      header({ headerName: 'X', headerValue: 'v', 'sk-live-4f9a2c': 'x' }),
      `${PATH}.headerInjection[<key not shown>]`,
      'unknown key',
    ],
    [
      'a header value that is a number (YAML: quote it)',
      header({ headerName: 'X', headerValue: 12345 }),
      `${PATH}.headerInjection.headerValue`,
      'must be a string, got a number (quote it in YAML)',
    ],
    [
      'a header value with a line break',
      header({ headerName: 'X', headerValue: 'a\r\nInjected: yes' }),
      `${PATH}.headerInjection`,
      'the header value must not contain a line break or a NUL character',
    ],
    [
      'a header name that is not one',
      header({ headerName: 'X Key', headerValue: 'v' }),
      `${PATH}.headerInjection.headerName`,
      'is not a valid HTTP header name',
    ],
    [
      'an empty string',
      header({ headerName: '', headerValue: 'v' }),
      `${PATH}.headerInjection.headerName`,
      'must not be empty',
    ],
    [
      'a token URL that is not one',
      { type: 'token_exchange', tokenExchange: { tokenUrl: 'sso/token' } },
      `${PATH}.tokenExchange.tokenUrl`,
      'must be an absolute http(s) URL',
    ],
    [
      'scopes that are not strings',
      { type: 'token_exchange', tokenExchange: { tokenUrl: 'https://x', scopes: ['a', 2] } },
      `${PATH}.tokenExchange.scopes[1]`,
      'must be a non-empty string, got a number',
    ],
    [
      'a role mapping without a role',
      { type: 'aws_sts', awsSts: { region: 'r', roleMappings: [{ claim: 'c' }] } },
      `${PATH}.awsSts.roleMappings[0].roleArn`,
      'is required',
    ],
    [
      'a session duration that is not whole',
      { type: 'aws_sts', awsSts: { region: 'r', sessionDuration: 1.5 } },
      `${PATH}.awsSts.sessionDuration`,
      'must be a whole number, got a number',
    ],
    [
      'a boolean spelt yes (YAML 1.2: a string)',
      {
        type: 'xaa',
        xaa: {
          idpTokenUrl: 'https://i',
          targetTokenUrl: 'https://t',
          insecureTargetTokenUrl: 'yes',
        },
      },
      `${PATH}.xaa.insecureTargetTokenUrl`,
      'must be true or false, got a string',
    ],
  ])('refuses %s, naming the path', (_name, value, path, problem) => {
    let error: unknown;
    try {
      strategyOf(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OutgoingAuthConfigError);
    expect(error).toMatchObject({ path });
    expect((error as OutgoingAuthConfigError).message).toContain(`${path}: ${problem}`);
  });
});

describe('the outgoingAuth block', () => {
  it('reads a config in the format upstream documents, ignoring nothing inside outgoingAuth', () => {
    const auth = fromYaml(`
name: team-vmcp
groupRef: engineering
incomingAuth:
  type: anonymous
outgoingAuth:
  source: discovered
  default:
    type: unauthenticated
  backends:
    fetch:
      type: header_injection
      headerInjection:
        headerName: X-Api-Key
        headerValueEnv: FETCH_KEY
    docs.internal:
      type: upstream_inject
      upstreamInject:
        providerName: github
aggregation:
  conflictResolution: prefix
`);
    expect(auth).toBeInstanceOf(OutgoingAuth);
    expect(auth.source).toBe('discovered');
    expect(auth.default).toEqual({
      path: 'outgoingAuth.default',
      strategy: { type: 'unauthenticated' },
    });
    expect(auth.backends.get('fetch')).toEqual({
      path: 'outgoingAuth.backends.fetch',
      strategy: {
        type: 'header_injection',
        headerName: 'X-Api-Key',
        headerValue: 'from-env-fetch',
      },
    });
    expect(auth.backends.get('docs.internal')?.path).toBe('outgoingAuth.backends["docs.internal"]');
    expect(auth.summary()).toEqual({
      source: 'discovered',
      default: 'unauthenticated',
      backends: { fetch: 'header_injection', 'docs.internal': 'upstream_inject' },
    });
  });

  it('takes an absent source as inline, as upstream, and says it was absent', () => {
    const auth = parseOutgoingAuth({}, { env: ENV });
    expect([auth.source, auth.sourceGiven, auth.backends.size, auth.default]).toEqual([
      'inline',
      false,
      0,
      undefined,
    ]);
    expect(parseOutgoingAuth({ source: 'inline' }, { env: ENV }).sourceGiven).toBe(true);
  });

  it.each([
    [
      'a source upstream would fall back from',
      { source: 'discoverd' },
      'outgoingAuth.source',
      'unknown source "discoverd"; must be discovered or inline',
    ],
    [
      'a source that is not a string',
      { source: ['inline'] },
      'outgoingAuth.source',
      'unknown source (a list); must be discovered or inline',
    ],
    [
      'a misspelt key',
      { sorce: 'discovered' },
      'outgoingAuth.sorce',
      'unknown key; known here: source, default, backends',
    ],
    [
      'a key upstream added later',
      { excludedBackends: ['x'] },
      'outgoingAuth.excludedBackends',
      'unknown key',
    ],
    [
      'backends as a list',
      { backends: [] },
      'outgoingAuth.backends',
      'must be a mapping, got a list',
    ],
    [
      'a backend name no workload can have',
      { backends: { Fetch: { type: 'unauthenticated' } } },
      'outgoingAuth.backends.Fetch',
      'is not a Kubernetes resource name',
    ],
    [
      'a backend name that looks like a token, not shown',
      { backends: { sk_live_4F9a2c: { type: 'unauthenticated' } } },
      'outgoingAuth.backends[<key not shown>]',
      'is not a Kubernetes resource name',
    ],
    [
      'a backend without a strategy',
      { backends: { fetch: null } },
      'outgoingAuth.backends.fetch',
      'has no strategy',
    ],
    [
      'a bad strategy of a backend',
      { backends: { fetch: { type: 'none' } } },
      'outgoingAuth.backends.fetch.type',
      'unknown strategy type "none"',
    ],
    [
      'outgoingAuth that is not a mapping',
      'discovered',
      'outgoingAuth',
      'must be a mapping, got a string',
    ],
  ])('refuses %s, naming the path', (_name, value, path, problem) => {
    expect(() => parseOutgoingAuth(value, { env: ENV })).toThrow(`${path}: ${problem}`);
  });

  it('compares by what it gives each backend, secret values included', () => {
    const header = (value: string) => ({
      source: 'discovered',
      backends: {
        fetch: {
          type: 'header_injection',
          headerInjection: { headerName: 'X', headerValue: value },
        },
      },
    });
    const a = parseOutgoingAuth(header('one'), { env: ENV });
    expect(a.equals(parseOutgoingAuth(header('one'), { env: ENV }))).toBe(true);
    expect(a.equals(parseOutgoingAuth(header('two'), { env: ENV }))).toBe(false);
    expect(a.equals(parseOutgoingAuth({ ...header('one'), source: 'inline' }, { env: ENV }))).toBe(
      false,
    );
    expect(a.equals(undefined)).toBe(false);
  });

  it('reads process.env by default', () => {
    process.env.VMCP_OUTGOING_AUTH_TEST = 'from-process';
    try {
      const auth = parseOutgoingAuth({
        default: {
          type: 'header_injection',
          headerInjection: { headerName: 'X', headerValueEnv: 'VMCP_OUTGOING_AUTH_TEST' },
        },
      });
      expect(auth.default).toMatchObject({ strategy: { headerValue: 'from-process' } });
    } finally {
      delete process.env.VMCP_OUTGOING_AUTH_TEST;
    }
  });
});

describe('hostile input', () => {
  // Every string value is marked: an error must never carry one (the file holds secrets). Only the
  // names of environment variables, which the errors name on purpose, are never marked.
  const marked = fc.string({ maxLength: 12 }).map((s) => `SECRET-${s}`);
  const junk = fc.oneof(
    marked,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(marked, { maxLength: 2 }),
    fc.dictionary(fc.constantFrom('a', 'headerName', 'type'), marked, { maxKeys: 2 }),
  );
  /** A field: mostly a plausible value, sometimes junk. */
  const field = (plausible: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: junk });
  const url = field(fc.constantFrom('https://sso.example/token', 'http://x/token'));
  // A marked value where a variable's name goes (the token itself in `headerValueEnv`) too.
  const envName = fc.oneof(fc.constantFrom('FETCH_KEY', 'UNSET_VAR', '', 'constructor'), marked);
  // Sometimes with a marked value where a key goes (a mis-indented token).
  const section = (fields: Record<string, fc.Arbitrary<unknown>>) =>
    fc
      .tuple(fc.record(fields, { requiredKeys: [] }), fc.option(marked, { freq: 8 }))
      .map(([body, key]) => (key === null ? body : { ...body, [key]: 'v' }));
  const sections = {
    headerInjection: section({
      headerName: field(fc.constantFrom('X-Key', 'Authorization')),
      headerValue: field(marked),
      headerValueEnv: envName,
    }),
    tokenExchange: section({
      tokenUrl: url,
      clientId: field(marked),
      clientSecret: field(marked),
      clientSecretEnv: envName,
      audience: field(marked),
      scopes: field(fc.array(marked, { maxLength: 2 })),
      subjectTokenType: field(marked),
    }),
    upstreamInject: section({ providerName: field(marked) }),
    awsSts: section({
      region: field(marked),
      sessionDuration: field(fc.integer()),
      roleMappings: field(
        fc.array(section({ roleArn: field(marked), priority: field(fc.integer()) }), {
          maxLength: 2,
        }),
      ),
    }),
    obo: section({
      tokenUrl: url,
      clientSecret: field(marked),
      clientSecretEnv: envName,
      cacheSkewSeconds: field(fc.integer()),
    }),
    xaa: section({
      idpTokenUrl: url,
      targetTokenUrl: url,
      idpClientSecret: field(marked),
      targetClientSecretEnv: envName,
      insecureTargetTokenUrl: field(fc.boolean()),
    }),
  };
  const strategy = fc.oneof(
    field(fc.constant({ type: 'unauthenticated' })),
    ...Object.entries(sections).map(([name, body]) =>
      fc.record(
        {
          type: field(
            fc.constantFrom(
              'unauthenticated',
              'header_injection',
              'token_exchange',
              'upstream_inject',
              'aws_sts',
              'obo',
              'xaa',
            ),
          ),
          [name]: body,
        },
        { requiredKeys: ['type'] },
      ),
    ),
  );
  const block = fc.record(
    {
      source: field(fc.constantFrom('discovered', 'inline')),
      default: strategy,
      backends: field(
        fc.dictionary(
          fc.oneof(fc.constantFrom('fetch', 'github', 'Bad Name', 'a.b'), marked),
          strategy,
          {
            maxKeys: 3,
          },
        ),
      ),
    },
    { requiredKeys: [] },
  );

  it('either parses or throws OutgoingAuthConfigError, whose message holds no value of the input', () => {
    let parsed = 0;
    fc.assert(
      fc.property(block, (input) => {
        try {
          parseOutgoingAuth(input, { env: { FETCH_KEY: 'SECRET-env' } });
          parsed++;
        } catch (error) {
          expect(error).toBeInstanceOf(OutgoingAuthConfigError);
          expect((error as Error).message).not.toContain('SECRET-');
        }
      }),
      { numRuns: 3000 },
    );
    // Both sides were exercised: the generator is not all junk.
    expect(parsed).toBeGreaterThan(30);
  });
});
