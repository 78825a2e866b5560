import { HttpError } from './http-error.js';
import { onlyParams, type Request } from './request.js';
import { printable } from './request-target.js';

/** One route of the HTTP API. */
export interface Route {
  /** The exact path, or a prefix whose remainder is the route's one path parameter. */
  path: string;
  prefix?: boolean;
  /** The query parameters it takes; any other, or one given twice, is a 400. */
  query: readonly string[];
  /** Answered while shutting down too (health, readiness, metrics); others get 503 then. */
  whileDraining?: boolean;
  /** Answers; resolves with the route's name for the request metrics. */
  handle(request: Request, param: string): Promise<string> | string;
}

/** The first route of `routes` for `path`, with its path parameter. */
function match(
  routes: readonly Route[],
  path: string,
): { route: Route; param: string } | undefined {
  for (const route of routes) {
    if (route.prefix ? path.startsWith(route.path) : path === route.path) {
      return { route, param: route.prefix ? path.slice(route.path.length) : '' };
    }
  }
  return undefined;
}

/** The methods every route takes, as the `Allow` header of a 405 says. */
export const ALLOWED_METHODS = 'GET, HEAD';

/**
 * Answers a request with its route: 400 or 414 for a target or Host header it cannot route, 405
 * for a method other than GET and HEAD, 503 while shutting down (except the routes that say
 * otherwise), 404 for a path no route takes.
 */
export function dispatch(
  routes: readonly Route[],
  request: Request,
  draining: boolean,
): Promise<string> | string {
  if (request.unservable !== undefined) throw request.unservable;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new HttpError(405, `method ${request.method} is not allowed`, {
      allow: ALLOWED_METHODS,
    });
  }
  const found = match(routes, request.path);
  if (draining && !found?.route.whileDraining) throw new HttpError(503, 'shutting down');
  if (found === undefined) throw new HttpError(404, `no route for ${printable(request.path)}`);
  onlyParams(request.query, found.route.query);
  return found.route.handle(request, found.param);
}
