import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeFailure, scrubSecrets } from '../src/secrets.js';

describe('scrubSecrets', () => {
  it('replaces every occurrence, longest first', () => {
    expect(scrubSecrets('a=abc; b=abcdef; again abc', ['abc', 'abcdef'])).toBe(
      'a=[REDACTED]; b=[REDACTED]; again [REDACTED]',
    );
  });

  it('cuts long texts after scrubbing', () => {
    const text = `${'x'.repeat(499)}secret${'y'.repeat(600)}`;
    const scrubbed = scrubSecrets(text, ['secret']);
    expect(scrubbed).not.toContain('secret');
    expect(scrubbed.length).toBeLessThanOrEqual(501);
  });

  it('leaves no secret in any text', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ minLength: 1 }),
        fc.string(),
        (before, secret, after) => {
          expect(scrubSecrets(`${before}${secret}${after}`, [secret]).includes(secret)).toBe(
            // A secret may survive only as part of the marker itself.
            '[REDACTED]'.includes(secret),
          );
        },
      ),
    );
  });
});

describe('describeFailure', () => {
  it('follows causes and codes, as fetch reports TLS errors', () => {
    const cause = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    expect(describeFailure(new TypeError('fetch failed', { cause }), [])).toBe(
      'fetch failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)',
    );
  });

  it('scrubs secrets echoed by a backend', () => {
    const error = new Error('Error POSTing to endpoint (HTTP 401): bad key tok-123\nsee docs');
    expect(describeFailure(error, ['tok-123'])).toBe(
      'Error POSTing to endpoint (HTTP 401): bad key [REDACTED] see docs',
    );
  });
});
