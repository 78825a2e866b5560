import type { IncomingMessage } from 'node:http';
import { ApiFailure } from './status.js';

/** The user of a request without credentials, as kube-apiserver names it. */
const ANONYMOUS = 'system:anonymous';
/** What kube-apiserver's system:public-info-viewer role lets an anonymous user read. */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** The user a request authenticates as; undefined for credentials that are not valid. */
function userOf(req: IncomingMessage, tokens: readonly string[]): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return ANONYMOUS;
  const token = /^Bearer (.+)$/.exec(header)?.[1];
  return token !== undefined && tokens.includes(token) ? 'admin' : undefined;
}

/**
 * Lets a request through as kube-apiserver with anonymous auth (its default) does: a wrong token
 * is refused (401); a request without credentials is system:anonymous, who may read health and
 * version and nothing else (403). Every valid token is an admin's.
 */
export function authorize(req: IncomingMessage, path: string, tokens: readonly string[]): void {
  const user = userOf(req, tokens);
  if (user === undefined) throw new ApiFailure(401, 'Unauthorized', 'Unauthorized');
  if (user === ANONYMOUS && !PUBLIC_PATHS.has(path)) {
    throw new ApiFailure(
      403,
      'Forbidden',
      `forbidden: User "${ANONYMOUS}" cannot ${(req.method ?? 'GET').toLowerCase()} path "${path}"`,
    );
  }
}
