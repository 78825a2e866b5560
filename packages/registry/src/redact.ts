import type { Backend, BackendAuthStrategy } from './backend.js';

/** What replaces a secret value in anything that is logged or served without a token. */
export const REDACTED = '[REDACTED]';

/**
 * Returns a copy of the strategy with every secret value replaced by {@link REDACTED}: the
 * header value of `header_injection`, the client secret of `token_exchange`, and the two client
 * secrets of `xaa`. Fields that are absent stay absent, so a reader still sees which secrets
 * were configured.
 */
export function redactAuthStrategy(strategy: BackendAuthStrategy): BackendAuthStrategy {
  switch (strategy.type) {
    case 'header_injection':
      return { ...strategy, headerValue: REDACTED };
    case 'token_exchange':
      return strategy.clientSecret === undefined
        ? { ...strategy }
        : { ...strategy, clientSecret: REDACTED };
    case 'xaa': {
      const copy = { ...strategy };
      if (copy.idpClientSecret !== undefined) copy.idpClientSecret = REDACTED;
      if (copy.targetClientSecret !== undefined) copy.targetClientSecret = REDACTED;
      return copy;
    }
    default:
      return { ...strategy };
  }
}

/** Returns a copy of the backend that is safe to log or to serve without a token. */
export function redactBackend(backend: Backend): Backend {
  if (backend.authConfig === undefined) return { ...backend };
  return { ...backend, authConfig: redactAuthStrategy(backend.authConfig) };
}
