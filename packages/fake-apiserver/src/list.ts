import { apiVersionOf, withVersion } from './response.js';
import type { Selector } from './selectors.js';
import { ApiFailure } from './status.js';
import type { ObjectStore, ResourceType } from './store.js';
import type { KubeObject } from './types.js';

/** A list response, before its media is applied. */
export interface ListPage {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
  items: KubeObject[];
}

const TOO_OLD =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** Where a continue token resumes: the list's resourceVersion and the last key returned. */
interface Continue {
  rv: number;
  after: string;
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

function parseContinue(token: string, store: ObjectStore): Continue {
  let parsed: Continue;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Continue;
    if (typeof parsed.rv !== 'number' || typeof parsed.after !== 'string') throw new Error('shape');
  } catch {
    throw ApiFailure.badRequest('continue key is not valid');
  }
  if (parsed.rv < store.oldestWatchable) throw ApiFailure.gone(TOO_OLD);
  return parsed;
}

/**
 * One page of a list, as kube-apiserver pages: `limit` items in key order, and a `continue`
 * token (with `remainingItemCount`) that resumes at the list's resourceVersion while the history
 * still holds it (410 Gone after).
 */
export function listPage(
  store: ObjectStore,
  type: ResourceType,
  namespace: string | undefined,
  selector: Selector,
  query: URLSearchParams,
  version: string,
): ListPage {
  const limit = query.has('limit') ? Number(query.get('limit')) : 0;
  if (!Number.isInteger(limit) || limit < 0)
    throw ApiFailure.badRequest(`invalid limit "${query.get('limit')}"`);
  let items = store.list(type, namespace, selector);
  let listRv = store.resourceVersion;
  const token = query.get('continue');
  if (token) {
    const resume = parseContinue(token, store);
    listRv = resume.rv;
    items = items.filter((o) => keyOf(o) > resume.after);
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
  if (limit > 0 && items.length > limit) {
    const page = items.slice(0, limit);
    const next: Continue = { rv: listRv, after: keyOf(page.at(-1) as KubeObject) };
    metadata.continue = Buffer.from(JSON.stringify(next)).toString('base64url');
    metadata.remainingItemCount = items.length - limit;
    items = page;
  }
  return {
    apiVersion: apiVersionOf(type, version),
    kind: type.listKind,
    metadata,
    items: items.map((o) => withVersion(o, type, version)),
  };
}
