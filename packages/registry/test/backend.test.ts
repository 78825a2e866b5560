import { describe, expect, it } from 'vitest';
import {
  BACKEND_HEALTH_STATUSES,
  type Backend,
  REDACTED,
  redactBackend,
  toCrdStatus,
} from '../src/index.js';
import { backend } from './fixtures.js';

describe('toCrdStatus', () => {
  it.each([
    ['healthy', 'ready'],
    ['degraded', 'degraded'],
    ['unhealthy', 'unavailable'],
    ['unauthenticated', 'unauthenticated'],
    ['unknown', 'unknown'],
    ['something-else', 'unknown'],
    ['', 'unknown'],
  ])('maps %j to %j', (status, expected) => {
    expect(toCrdStatus(status)).toBe(expected);
  });

  it('covers every health status', () => {
    expect(BACKEND_HEALTH_STATUSES.map((status) => toCrdStatus(status))).toEqual([
      'ready',
      'degraded',
      'unavailable',
      'unknown',
      'unauthenticated',
    ]);
  });
});

describe('redactBackend', () => {
  const secret = 's3cr3t-value-9f1c';

  it('replaces the header value of header injection', () => {
    const input = backend('a', {
      authConfig: { type: 'header_injection', headerName: 'X-Api-Key', headerValue: secret },
    });
    const redacted = redactBackend(input);
    expect(redacted.authConfig).toEqual({
      type: 'header_injection',
      headerName: 'X-Api-Key',
      headerValue: REDACTED,
    });
    expect(JSON.stringify(redacted)).not.toContain(secret);
  });

  it('replaces the token exchange client secret and keeps the other fields', () => {
    const input = backend('a', {
      authConfig: {
        type: 'token_exchange',
        tokenUrl: 'https://idp.example/token',
        clientId: 'vmcp',
        clientSecret: secret,
        audience: 'backend',
      },
    });
    expect(redactBackend(input).authConfig).toEqual({
      type: 'token_exchange',
      tokenUrl: 'https://idp.example/token',
      clientId: 'vmcp',
      clientSecret: REDACTED,
      audience: 'backend',
    });
  });

  it('leaves an absent token exchange client secret absent', () => {
    const input = backend('a', {
      authConfig: { type: 'token_exchange', tokenUrl: 'https://idp.example/token' },
    });
    expect(redactBackend(input).authConfig).not.toHaveProperty('clientSecret');
  });

  it('replaces both xaa client secrets', () => {
    const input = backend('a', {
      authConfig: {
        type: 'xaa',
        idpTokenUrl: 'https://idp.example/token',
        idpClientSecret: `${secret}-idp`,
        targetTokenUrl: 'https://target.example/token',
        targetClientSecret: `${secret}-target`,
      },
    });
    const text = JSON.stringify(redactBackend(input));
    expect(text).not.toContain(secret);
    expect(redactBackend(input).authConfig).toMatchObject({
      idpClientSecret: REDACTED,
      targetClientSecret: REDACTED,
    });
  });

  it('does not change the input', () => {
    const input: Backend = backend('a', {
      authConfig: { type: 'header_injection', headerName: 'X', headerValue: secret },
    });
    redactBackend(input);
    expect(input.authConfig).toMatchObject({ headerValue: secret });
  });

  it('keeps strategies without secrets as they are', () => {
    const input = backend('a', { authConfig: { type: 'aws_sts', region: 'eu-west-1' } });
    expect(redactBackend(input)).toEqual(input);
  });
});
