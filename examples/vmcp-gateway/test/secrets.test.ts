import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeFailure, scrubSecrets } from '../src/secrets.js';

describe('scrubSecrets', () => {
  it('replaces every occurrence, longest first', () => {
    expect(scrubSecrets('a=abc; b=abcdef; again abc', ['abc', 'abcdef'])).toBe(
      'a=[REDACTED]; b=[REDACTED]; again [REDACTED]',
    );
  });

  it('scrubs the credential of a `<scheme> <credential>` value alone, as a backend echoes it', () => {
    expect(scrubSecrets('invalid token tok-4f9a2c', ['Bearer tok-4f9a2c'])).toBe(
      'invalid token [REDACTED]',
    );
    expect(scrubSecrets('got "Bearer tok-4f9a2c"', ['Bearer tok-4f9a2c'])).toBe('got "[REDACTED]"');
  });

  it('cuts long texts after scrubbing', () => {
    const text = `${'x'.repeat(499)}secret${'y'.repeat(600)}`;
    const scrubbed = scrubSecrets(text, ['secret']);
    expect(scrubbed).not.toContain('secret');
    expect(scrubbed.length).toBeLessThanOrEqual(501);
  });

  it('leaves no secret in any text', () => {
    // Header values as Secrets hold them: tokens of 8 or more characters. (A secret that is part
    // of the marker itself, or one character long, cannot be scrubbed from a text: not a case.)
    const token = fc
      .string({ unit: fc.constantFrom(...'abcXYZ0123456789-_.~+/='), minLength: 8, maxLength: 40 })
      .filter((secret) => !'[REDACTED]'.includes(secret));
    fc.assert(
      fc.property(fc.string(), token, fc.string(), (before, secret, after) => {
        expect(scrubSecrets(`${before}${secret}${after}${secret}`, [secret])).not.toContain(secret);
      }),
      { numRuns: 1000 },
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

  it('scrubs a secret holding whitespace before making the reason one line', () => {
    const secret = 'key\twith  spaces';
    expect(describeFailure(new Error(`rejected ${secret}\nsee docs`), [secret])).toBe(
      'rejected [REDACTED] see docs',
    );
  });

  it('scrubs secrets echoed by a backend', () => {
    const error = new Error('Error POSTing to endpoint (HTTP 401): bad key tok-123\nsee docs');
    expect(describeFailure(error, ['tok-123'])).toBe(
      'Error POSTing to endpoint (HTTP 401): bad key [REDACTED] see docs',
    );
  });
});
