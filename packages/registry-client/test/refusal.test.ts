import { describe, expect, it } from 'vitest';
import { type Answer, type Endpoint, refusalOf } from '../src/refusal.js';

const sidecar = { url: 'http://127.0.0.1:8080/', hasToken: true };

describe('refusalOf', () => {
  const rows: [Answer, Endpoint, string | undefined][] = [
    [{ status: 200 }, '/v1/events', undefined],
    [{ status: 401 }, '/v1/events', 'rejected Unauthorized 401'],
    [{ status: 401 }, '/v1/backends', 'rejected Unauthorized 401'],
    [{ status: 403 }, '/v1/events', 'rejected Rejected 403'],
    [{ status: 403 }, '/v1/backends', 'rejected Rejected 403'],
    [{ status: 404 }, '/v1/events', 'streamRefused Rejected 404'],
    [{ status: 405 }, '/v1/events', 'streamRefused Rejected 405'],
    [{ status: 400 }, '/v1/events', 'streamRefused Rejected 400'],
    [{ status: 404 }, '/v1/backends', 'rejected Rejected 404'],
    [{ status: 400 }, '/v1/backends', 'rejected Rejected 400'],
    [{ status: 408 }, '/v1/events', 'unreachable'],
    [{ status: 429, retryAfterMs: 5000 }, '/v1/backends', 'unreachable 5000'],
    [{ status: 503, retryAfterMs: 2000 }, '/v1/events', 'unreachable 2000'],
    [{ status: 500 }, '/v1/backends', 'unreachable'],
    [{ status: 302 }, '/v1/events', 'unreachable'],
  ];

  it.each(rows)('%o on %s: %s', (answer, endpoint, expected) => {
    const input = refusalOf(answer, endpoint, sidecar);
    if (input === undefined) {
      expect(expected).toBeUndefined();
      return;
    }
    const described =
      input.type === 'rejected' || input.type === 'streamRefused'
        ? `${input.type} ${input.error.reason} ${input.error.status}`
        : input.type === 'unreachable'
          ? ['unreachable', input.retryAfterMs].filter((part) => part !== undefined).join(' ')
          : input.type;
    expect(described).toBe(expected);
  });

  it('says what a 401 means with and without a token, naming the URL without a doubled slash', () => {
    const withToken = refusalOf({ status: 401 }, '/v1/events', sidecar);
    const without = refusalOf({ status: 401 }, '/v1/events', { ...sidecar, hasToken: false });
    expect(withToken).toMatchObject({
      error: {
        message:
          "http://127.0.0.1:8080/v1/events answered 401: the token does not match the sidecar's --api-token-file",
      },
    });
    expect(without).toMatchObject({ error: { message: expect.stringContaining('credentials') } });
  });
});
