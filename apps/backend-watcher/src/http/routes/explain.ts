import { parseName } from '../request.js';
import type { Route } from '../router.js';

/**
 * `/v1/explain/{name}`: why a name is or is not served, from the running watcher. It needs the
 * same access as the backends it may show (a wrong token is a 401 here too).
 */
export function explainRoute(
  explain: (name: string, signal: AbortSignal) => Promise<unknown>,
): Route {
  return {
    path: '/v1/explain/',
    prefix: true,
    query: [],
    handle: async (request, segment) => {
      request.access();
      const name = parseName(segment, 'a name');
      request.json(200, await explain(name, request.closed));
      return 'explain';
    },
  };
}
