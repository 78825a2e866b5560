import { createHash, timingSafeEqual } from 'node:crypto';

/** What a request's credentials allow. */
export type Access = 'secrets' | 'redacted' | 'denied';

/**
 * Checks `Authorization: Bearer <token>` against the configured token in constant time: both are
 * hashed to 32 bytes first, so neither the content nor the length of the expected token leaks
 * through timing. Without a configured token nothing ever unlocks secrets and any Authorization
 * header is ignored; with one, a request without the header gets redacted data and a request
 * with a wrong token is denied (a misconfigured client learns at once, instead of silently
 * reading redaction markers).
 */
export class TokenCheck {
  readonly #expected: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#expected = token === undefined ? undefined : digest(token);
  }

  get enabled(): boolean {
    return this.#expected !== undefined;
  }

  access(authorization: string | undefined): Access {
    if (this.#expected === undefined || authorization === undefined) return 'redacted';
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match?.[1]) return 'denied';
    return timingSafeEqual(digest(match[1]), this.#expected) ? 'secrets' : 'denied';
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
