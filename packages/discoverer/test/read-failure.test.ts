import { describe, expect, it } from 'vitest';
import { AuthResolutionError, classifyReadFailure, readFailureReason } from '../src/index.js';

const withCode = (code: unknown, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error('failed'), { code, ...extra });

describe('classifyReadFailure', () => {
  const table: [string, unknown, 'transient' | 'definitive'][] = [
    ['connection refused', withCode('ECONNREFUSED'), 'transient'],
    ['connection reset', withCode('ECONNRESET'), 'transient'],
    ['socket timeout', withCode('ETIMEDOUT'), 'transient'],
    ['name lookup failed for now', withCode('EAI_AGAIN'), 'transient'],
    ['premature close of a body', withCode('ERR_STREAM_PREMATURE_CLOSE'), 'transient'],
    ['AbortSignal.timeout', Object.assign(new Error('t'), { name: 'TimeoutError' }), 'transient'],
    ['aborted', Object.assign(new Error('a'), { name: 'AbortError' }), 'transient'],
    ['408 Request Timeout', withCode(408), 'transient'],
    ['429 Too Many Requests', withCode(429, { reason: 'TooManyRequests' }), 'transient'],
    ['500 Internal Error', withCode(500), 'transient'],
    ['503 Service Unavailable', withCode(503), 'transient'],
    ['504 Timeout', withCode(504, { reason: 'Timeout' }), 'transient'],
    [
      '401 Unauthorized (our own credentials)',
      withCode(401, { reason: 'Unauthorized' }),
      'transient',
    ],
    ['403 Forbidden (our own RBAC)', withCode(403, { reason: 'Forbidden' }), 'transient'],
    ['400 Bad Request', withCode(400), 'definitive'],
    ['404 Not Found (of a collection)', withCode(404), 'definitive'],
    ['422 Invalid', withCode(422), 'definitive'],
    ['an explicit transient flag wins', withCode(400, { transient: true }), 'transient'],
    ['an explicit definitive flag wins', withCode(503, { transient: false }), 'definitive'],
    ['the cause of a wrapper', new Error('w', { cause: withCode(400) }), 'definitive'],
    ['the cause of a wrapper (403)', new Error('w', { cause: withCode(403) }), 'transient'],
    ['the cause of a wrapper (transient)', new Error('w', { cause: withCode(503) }), 'transient'],
    ['a body that did not parse', new SyntaxError('Unexpected end of JSON input'), 'transient'],
    ['an unknown failure', new Error('something'), 'transient'],
    ['a thrown string', 'boom', 'transient'],
    ['a status code out of HTTP range', withCode(7), 'transient'],
  ];
  it.each(table)('%s is %s', (_label, error, expected) => {
    expect(classifyReadFailure(error)).toBe(expected);
  });
});

describe('readFailureReason', () => {
  const table: [string, unknown, string][] = [
    ['401', withCode(401, { reason: 'Unauthorized' }), 'unauthorized'],
    ['403', withCode(403, { reason: 'Forbidden' }), 'forbidden'],
    ['503', withCode(503), 'unavailable'],
    ['a socket error', withCode('ECONNREFUSED'), 'unavailable'],
    ['a timeout', Object.assign(new Error('t'), { name: 'TimeoutError' }), 'unavailable'],
    ['403 as the cause of a wrapper', new Error('w', { cause: withCode(403) }), 'forbidden'],
    [
      '401 under an auth resolution error',
      new AuthResolutionError('lookup-failed', 'ns/a', 'Secret ns/s could not be read', {
        cause: withCode(401),
        transient: true,
      }),
      'unauthorized',
    ],
    ['the outermost status code decides', withCode(503, { cause: withCode(403) }), 'unavailable'],
    [
      'a cause cycle',
      (() => {
        const e = new Error('loop') as Error & { cause?: unknown };
        e.cause = e;
        return e;
      })(),
      'unavailable',
    ],
    ['a thrown string', 'boom', 'unavailable'],
    ['undefined', undefined, 'unavailable'],
  ];
  it.each(table)('%s is %s', (_label, error, expected) => {
    expect(readFailureReason(error)).toBe(expected);
  });
});
