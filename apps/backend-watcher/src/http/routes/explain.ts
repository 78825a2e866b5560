import { FreshExplains } from '../fresh-explains.js';
import { parseName } from '../request.js';
import type { Route } from '../router.js';

/** How one explain may read. */
export interface ExplainOptions {
  /**
   * True: reads against the API server are allowed (Secrets, CA ConfigMaps), for a request that
   * carried the API token. False: only what the sidecar holds (its caches, the last decision,
   * kept-stale state), no read at all.
   */
  fresh: boolean;
  /** Aborts once nobody waits for the answer any more (every client asking for it left). */
  signal: AbortSignal;
}

/** Why a name is or is not served, as plain JSON. */
export type Explain = (name: string, options: ExplainOptions) => Promise<unknown>;

/**
 * `/v1/explain/{name}`: why a name is or is not served, from the running watcher. It needs the
 * same access as the backends it may show (a wrong token is a 401 here too). A request without
 * the API token is answered from what the sidecar holds and costs the API server nothing; one
 * with it reads afresh, sharing the reads of every request for the same name in flight, with at
 * most `maxFresh` names read at once (beyond, 503 with `Retry-After`), and the reads stop when
 * every client asking has gone.
 */
export function explainRoute(explain: Explain, options: { maxFresh: number }): Route {
  const fresh = new FreshExplains(options.maxFresh, (name, signal) =>
    explain(name, { fresh: true, signal }),
  );
  return {
    path: '/v1/explain/',
    prefix: true,
    query: [],
    handle: async (request, segment) => {
      const access = request.access();
      const name = parseName(segment, 'a name');
      const explanation =
        access === 'secrets'
          ? await fresh.run(name, request.closed)
          : await explain(name, { fresh: false, signal: request.closed });
      request.json(200, explanation);
      return 'explain';
    },
  };
}
