import { describe, expect, it } from 'vitest';
import { classifyReadFailure } from '../src/index.js';

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
    ['401 Unauthorized', withCode(401, { reason: 'Unauthorized' }), 'definitive'],
    ['403 Forbidden', withCode(403, { reason: 'Forbidden' }), 'definitive'],
    ['400 Bad Request', withCode(400), 'definitive'],
    ['404 Not Found (of a collection)', withCode(404), 'definitive'],
    ['422 Invalid', withCode(422), 'definitive'],
    ['an explicit transient flag wins', withCode(403, { transient: true }), 'transient'],
    ['an explicit definitive flag wins', withCode(503, { transient: false }), 'definitive'],
    ['the cause of a wrapper', new Error('w', { cause: withCode(403) }), 'definitive'],
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
