import type { Backend } from '@vmcp/registry';
import { REDACTED } from '@vmcp/registry';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionSettings } from '../src/backend-settings.js';

const SECRET = 'hdr-secret-0f9a';
const FORWARDED_SECRET = 'fwd-secret-77b1';

function backend(overrides: Partial<Backend> = {}): Backend {
  return {
    id: 'alpha',
    name: 'alpha',
    baseUrl: 'https://alpha.tools.svc:8443/mcp',
    transportType: 'streamable-http',
    healthStatus: 'healthy',
    metadata: {},
    ...overrides,
  };
}

const headerAuth = (headerName: string, headerValue = SECRET): Partial<Backend> => ({
  authConfig: { type: 'header_injection', headerName, headerValue },
});

describe('connectionSettings', () => {
  it('reaches an unauthenticated backend with no headers and the system CAs', () => {
    expect(connectionSettings(backend({ authConfig: { type: 'unauthenticated' } }), {})).toEqual({
      ok: true,
      settings: {
        url: 'https://alpha.tools.svc:8443/mcp',
        transport: 'streamable-http',
        headers: {},
        ca: undefined,
        secrets: [],
      },
    });
  });

  it('sends the header of header_injection and lists its value as a secret', () => {
    const result = connectionSettings(backend(headerAuth('X-Api-Key')), {});
    expect(result).toMatchObject({
      ok: true,
      settings: { headers: { 'x-api-key': SECRET }, secrets: [SECRET] },
    });
  });

  it('applies headerForward after the auth header, secret values from TOOLHIVE_SECRET_<id>', () => {
    const result = connectionSettings(
      backend({
        ...headerAuth('Authorization'),
        headerForward: {
          addPlaintextHeaders: { 'X-Team': 'engineering' },
          addHeadersFromSecret: { 'X-Tenant-Key': 'HEADER_FORWARD_X_TENANT_KEY_ALPHA' },
        },
      }),
      { TOOLHIVE_SECRET_HEADER_FORWARD_X_TENANT_KEY_ALPHA: FORWARDED_SECRET },
    );
    expect(result).toMatchObject({
      ok: true,
      settings: {
        headers: {
          authorization: SECRET,
          'x-team': 'engineering',
          'x-tenant-key': FORWARDED_SECRET,
        },
        secrets: [SECRET, FORWARDED_SECRET],
      },
    });
  });

  it('lets a forwarded header of the auth header name win, as upstream orders them', () => {
    const result = connectionSettings(
      backend({
        ...headerAuth('X-Key'),
        headerForward: { addPlaintextHeaders: { 'x-key': 'plain' } },
      }),
      {},
    );
    expect(result).toMatchObject({ settings: { headers: { 'x-key': 'plain' } } });
  });

  it('trusts the CA bundle data over the path', () => {
    const both = connectionSettings(backend({ caBundleData: 'PEM', caBundlePath: '/ca.crt' }), {});
    expect(both).toMatchObject({ settings: { ca: { pem: 'PEM' } } });
    const path = connectionSettings(backend({ caBundlePath: '/ca.crt' }), {});
    expect(path).toMatchObject({ settings: { ca: { path: '/ca.crt' } } });
  });

  it('reaches an SSE backend', () => {
    expect(connectionSettings(backend({ transportType: 'sse' }), {})).toMatchObject({
      settings: { transport: 'sse' },
    });
  });

  it.each<[string, Partial<Backend>, string]>([
    ['stdio', { transportType: 'stdio' }, 'transport "stdio" is not reachable over HTTP'],
    ['an unknown transport', { transportType: 'unknown' }, 'transport "unknown"'],
    ['a URL that does not parse', { baseUrl: 'not a url' }, 'its URL cannot be parsed'],
    ['a file URL', { baseUrl: 'file:///etc/passwd' }, 'is not http or https'],
    [
      'credentials in the URL',
      { baseUrl: `https://u:${SECRET}@a/mcp` },
      'its URL carries credentials',
    ],
    [
      'token exchange',
      {
        authConfig: { type: 'token_exchange', tokenUrl: 'https://sso/token', clientSecret: SECRET },
      },
      'auth strategy "token_exchange" is not implemented by this example',
    ],
    [
      'upstream inject',
      { authConfig: { type: 'upstream_inject', providerName: 'github' } },
      '"upstream_inject" is not implemented',
    ],
    [
      'aws sts',
      { authConfig: { type: 'aws_sts', region: 'eu-west-1' } },
      '"aws_sts" is not implemented',
    ],
    [
      'xaa',
      { authConfig: { type: 'xaa', idpTokenUrl: 'https://i', targetTokenUrl: 'https://t' } },
      '"xaa" is not implemented',
    ],
    ['a redacted header value', headerAuth('X-Key', REDACTED), 'serves its header value redacted'],
    ['a malformed header name', headerAuth('X Key'), 'is not a valid HTTP header name'],
    [
      'a header value with a newline',
      headerAuth('X-Key', `${SECRET}\r\nX-Evil: 1`),
      'is not a valid HTTP header value',
    ],
    [
      'a reserved header',
      headerAuth('Host'),
      'auth header Host is set by the MCP transport itself',
    ],
    [
      'the session header',
      { headerForward: { addPlaintextHeaders: { 'Mcp-Session-Id': 'x' } } },
      'is set by the MCP transport',
    ],
    [
      'a forwarded secret whose variable is not set',
      { headerForward: { addHeadersFromSecret: { 'X-Key': 'HEADER_FORWARD_X_KEY_ALPHA' } } },
      'environment variable TOOLHIVE_SECRET_HEADER_FORWARD_X_KEY_ALPHA is not set',
    ],
    [
      'a malformed secret identifier',
      { headerForward: { addHeadersFromSecret: { 'X-Key': '../../etc' } } },
      'names a malformed secret identifier',
    ],
  ])('leaves out %s with the reason', (_, overrides, reason) => {
    const result = connectionSettings(backend(overrides), {});
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });

  it('never puts a secret value in a reason', () => {
    const headerName = fc.oneof(
      fc.constantFrom('Authorization', 'X-Key', 'Host', 'x y'),
      fc.string(),
    );
    const value = fc.oneof(
      fc.constant(SECRET),
      fc.string({ unit: 'binary' }).map((s) => `${SECRET}${s}`),
    );
    fc.assert(
      fc.property(headerName, value, fc.boolean(), (name, headerValue, viaForward) => {
        const overrides: Partial<Backend> = viaForward
          ? { headerForward: { addHeadersFromSecret: { [name]: 'ID' } } }
          : headerAuth(name, headerValue);
        const result = connectionSettings(backend(overrides), { TOOLHIVE_SECRET_ID: headerValue });
        if (!result.ok) expect(result.reason).not.toContain(SECRET);
      }),
      { numRuns: 1000 },
    );
  });
});
