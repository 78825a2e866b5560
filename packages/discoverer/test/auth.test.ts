import { describe, expect, it } from 'vitest';
import { AuthResolutionError, createObjectReader, resolveAuth } from '../src/index.js';
import { authConfig, NS, secret } from './fixtures.js';

const SECRET = 'planted-secret-7c1e9a';

async function resolve(spec: Record<string, unknown>, extra: ReturnType<typeof secret>[] = []) {
  return resolveAuth('auth', NS, createObjectReader([authConfig('auth', spec), ...extra]));
}

async function failure(spec: Record<string, unknown>, extra: ReturnType<typeof secret>[] = []) {
  try {
    await resolve(spec, extra);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthResolutionError);
    expect(String((error as Error).message)).not.toContain(SECRET);
    return error as AuthResolutionError;
  }
  throw new Error('expected an AuthResolutionError');
}

describe('resolveAuth', () => {
  it('returns nothing without a ref', async () => {
    expect(await resolveAuth(undefined, NS, createObjectReader([]))).toBeUndefined();
  });

  it('fails when the auth config does not exist', async () => {
    await expect(resolveAuth('missing', NS, createObjectReader([]))).rejects.toMatchObject({
      reason: 'not-found',
      message: expect.stringContaining(`${NS}/missing`),
    });
  });

  it('converts unauthenticated', async () => {
    expect(await resolve({ type: 'unauthenticated' })).toEqual({
      strategy: { type: 'unauthenticated' },
      authConfigRef: 'auth',
    });
  });

  it('converts header injection with the value from its Secret', async () => {
    const result = await resolve(
      {
        type: 'headerInjection',
        headerInjection: { headerName: 'X-API-Key', valueSecretRef: { name: 's', key: 'k' } },
      },
      [secret('s', { k: SECRET })],
    );
    expect(result?.strategy).toEqual({
      type: 'header_injection',
      headerName: 'X-API-Key',
      headerValue: SECRET,
    });
  });

  it('requires the header injection secret ref', async () => {
    const error = await failure({ type: 'headerInjection', headerInjection: { headerName: 'X' } });
    expect(error.reason).toBe('missing-config');
  });

  it('converts token exchange with every field and the client secret', async () => {
    const result = await resolve(
      {
        type: 'tokenExchange',
        tokenExchange: {
          tokenUrl: 'https://idp.example/token',
          clientId: 'vmcp',
          clientSecretRef: { name: 's', key: 'client-secret' },
          audience: 'backend',
          scopes: ['read', 'write'],
          subjectTokenType: 'id_token',
          subjectProviderName: 'okta',
        },
      },
      [secret('s', { 'client-secret': SECRET })],
    );
    expect(result?.strategy).toEqual({
      type: 'token_exchange',
      tokenUrl: 'https://idp.example/token',
      clientId: 'vmcp',
      clientSecret: SECRET,
      audience: 'backend',
      scopes: ['read', 'write'],
      subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token',
      subjectProviderName: 'okta',
    });
  });

  it.each([
    ['access_token', 'urn:ietf:params:oauth:token-type:access_token'],
    ['id_token', 'urn:ietf:params:oauth:token-type:id_token'],
    ['jwt', 'urn:ietf:params:oauth:token-type:jwt'],
    ['urn:custom', 'urn:custom'],
  ])('normalises subject token type %s', async (input, expected) => {
    const result = await resolve({
      type: 'tokenExchange',
      tokenExchange: { tokenUrl: 'https://idp/token', subjectTokenType: input },
    });
    expect(result?.strategy).toMatchObject({ subjectTokenType: expected });
  });

  it('treats an absent client secret ref as no secret', async () => {
    const result = await resolve({
      type: 'tokenExchange',
      tokenExchange: { tokenUrl: 'https://idp/token' },
    });
    expect(result?.strategy).toEqual({ type: 'token_exchange', tokenUrl: 'https://idp/token' });
  });

  it('converts upstream inject', async () => {
    const result = await resolve({
      type: 'upstreamInject',
      upstreamInject: { providerName: 'github' },
    });
    expect(result?.strategy).toEqual({ type: 'upstream_inject', providerName: 'github' });
  });

  it('converts AWS STS with role mappings', async () => {
    const result = await resolve({
      type: 'awsSts',
      awsSts: {
        region: 'eu-west-1',
        service: 'aoss',
        fallbackRoleArn: 'arn:aws:iam::1:role/default',
        roleMappings: [
          { claim: 'groups', matcher: 'admins', roleArn: 'arn:aws:iam::1:role/admin', priority: 1 },
        ],
        roleClaim: 'groups',
        sessionDuration: 900,
        sessionNameClaim: 'sub',
        subjectProviderName: 'okta',
      },
    });
    expect(result?.strategy).toEqual({
      type: 'aws_sts',
      region: 'eu-west-1',
      service: 'aoss',
      fallbackRoleArn: 'arn:aws:iam::1:role/default',
      roleMappings: [
        { claim: 'groups', matcher: 'admins', roleArn: 'arn:aws:iam::1:role/admin', priority: 1 },
      ],
      roleClaim: 'groups',
      sessionDuration: 900,
      sessionNameClaim: 'sub',
      subjectProviderName: 'okta',
    });
  });

  it('converts xaa with both client secrets', async () => {
    const result = await resolve(
      {
        type: 'xaa',
        xaa: {
          idpTokenUrl: 'https://idp/token',
          idpClientId: 'idp-client',
          idpClientSecretRef: { name: 's', key: 'idp' },
          targetTokenUrl: 'https://target/token',
          targetClientId: 'target-client',
          targetClientSecretRef: { name: 's', key: 'target' },
          targetAudience: 'aud',
          scopes: ['a'],
        },
      },
      [secret('s', { idp: `${SECRET}-idp`, target: `${SECRET}-target` })],
    );
    expect(result?.strategy).toMatchObject({
      type: 'xaa',
      idpClientSecret: `${SECRET}-idp`,
      targetClientSecret: `${SECRET}-target`,
      targetAudience: 'aud',
    });
  });

  it.each([
    [{ type: 'obo', obo: { tenantId: 't' } }, 'enterprise-required'],
    [{ type: 'bearerToken', bearerToken: {} }, 'unsupported-type'],
    [{ type: 'embeddedAuthServer' }, 'unsupported-type'],
    [{ type: 'somethingNew' }, 'unsupported-type'],
    [{}, 'unsupported-type'],
    [{ type: 'headerInjection' }, 'missing-config'],
    [{ type: 'tokenExchange' }, 'missing-config'],
    [{ type: 'tokenExchange', tokenExchange: { clientId: 'x' } }, 'invalid-object'],
    [{ type: 'awsSts', awsSts: { region: 42 } }, 'invalid-object'],
  ])('rejects %j with %s', async (spec, reason) => {
    expect((await failure(spec)).reason).toBe(reason);
  });

  it('names the Secret when it is missing, and the key when it lacks it, never the value', async () => {
    const spec = {
      type: 'headerInjection',
      headerInjection: { headerName: 'X', valueSecretRef: { name: 's', key: 'k' } },
    };
    const missing = await failure(spec);
    expect(missing.reason).toBe('secret-not-found');
    expect(missing.message).toContain(`Secret ${NS}/s not found`);
    const noKey = await failure(spec, [secret('s', { other: SECRET })]);
    expect(noKey.reason).toBe('secret-key-missing');
    expect(noKey.message).toContain('"k"');
    const empty = await failure(spec, [secret('s', { k: '' })]);
    expect(empty.reason).toBe('secret-value-empty');
  });

  it('reports a lookup failure without leaking what the reader said', async () => {
    const reader = createObjectReader([
      authConfig('auth', {
        type: 'headerInjection',
        headerInjection: { headerName: 'X', valueSecretRef: { name: 's', key: 'k' } },
      }),
    ]);
    reader.getSecret = async () => {
      throw new Error('connection refused');
    };
    await expect(resolveAuth('auth', NS, reader)).rejects.toMatchObject({
      reason: 'lookup-failed',
    });
  });

  it('names the status code and reason of a failed read, and nothing of its text', async () => {
    const reader = createObjectReader([
      authConfig('auth', {
        type: 'headerInjection',
        headerInjection: { headerName: 'X', valueSecretRef: { name: 's', key: 'k' } },
      }),
    ]);
    reader.getSecret = async () => {
      throw Object.assign(new Error(`forbidden, and here is ${SECRET}`), {
        code: 403,
        reason: 'Forbidden',
      });
    };
    const error = (await resolveAuth('auth', NS, reader).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(`Secret ${NS}/s could not be read (403 Forbidden)`);
    expect(error.message).not.toContain(SECRET);
    reader.getSecret = async () => {
      throw Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
    };
    const network = (await resolveAuth('auth', NS, reader).catch((e: unknown) => e)) as Error;
    expect(network.message).toContain('could not be read (ECONNREFUSED)');
  });
});
