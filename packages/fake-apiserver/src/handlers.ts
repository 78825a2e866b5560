import type { ServerResponse } from 'node:http';
import { installCrd, isCrdType, uninstallCrd } from './crds.js';
import { listPage } from './list.js';
import { listAsServed, type Media, negotiate, type Shape } from './media.js';
import { clone, jsonPatch, mergePatch } from './patch.js';
import { type ApiRequest, parseJson, parseObject } from './request.js';
import { sendJson, servedAs } from './response.js';
import { parseFieldSelector, parseLabelSelector, type Selector } from './selectors.js';
import { ApiFailure } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';
import type { WatchScope } from './watch.js';

/** What a verb's handler works with. */
export interface HandlerContext {
  request: ApiRequest;
  res: ServerResponse;
  store: ObjectStore;
  media: Media;
  /** An object as this response serves it (version and media). */
  served(object: KubeObject): KubeObject;
  /** Serves a watch (the session outlives the handler). */
  watch(scope: WatchScope, query: URLSearchParams): void;
}

type Handler = (context: HandlerContext) => void;

/** One handler per HTTP method, as kube-apiserver maps them to verbs. */
const HANDLERS: Readonly<Record<string, Handler>> = {
  GET: getOrListOrWatch,
  POST: create,
  PUT: update,
  PATCH: patch,
  DELETE: remove,
};

/** What the response carries, for media negotiation: one object, a list, or a watch. */
function shapeOf({ method, route, query }: ApiRequest): Shape {
  if (method !== 'GET' || route.name !== undefined) return 'object';
  return isWatch(query) ? 'watch' : 'list';
}

function isWatch(query: URLSearchParams): boolean {
  return query.get('watch') === 'true' || query.get('watch') === '1';
}

/** Negotiates the media and runs the method's handler (405 for a method it has none for). */
export function handle(
  request: ApiRequest,
  context: Omit<HandlerContext, 'request' | 'media' | 'served'>,
): void {
  const media = negotiate(request.accept, shapeOf(request));
  const handler = HANDLERS[request.method];
  if (handler === undefined) {
    throw new ApiFailure(405, 'MethodNotAllowed', `method ${request.method} is not allowed`);
  }
  const { type, version } = request.route;
  handler({ ...context, request, media, served: servedAs(type, version, media) });
}

const methodNotAllowed = (
  message = 'the server does not allow this method on the requested resource',
) => new ApiFailure(405, 'MethodNotAllowed', message);

/** The options every write reads from the query. */
function writeOptions(request: ApiRequest) {
  const { query, route } = request;
  return {
    strict: query.get('fieldValidation') === 'Strict',
    version: route.version,
    ...(route.subresource ? { subresource: route.subresource } : {}),
  };
}

function getOrListOrWatch({ request, res, store, media, served, watch }: HandlerContext): void {
  const { route, query } = request;
  const { type, namespace, name, version } = route;
  if (name !== undefined) {
    sendJson(res, 200, served(store.get(type, namespace, name)));
    return;
  }
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(query.get('fieldSelector'));
  const selector: Selector = (o) => labels(o) && fields(o);
  if (isWatch(query)) watch({ store, type, namespace, selector, version, media }, query);
  else {
    const page = listPage(store, type, namespace, selector, query, version);
    sendJson(res, 200, listAsServed(page, media));
  }
}

function create({ request, res, store, served }: HandlerContext): void {
  const { type, namespace, name, version } = request.route;
  if (name !== undefined) throw methodNotAllowed();
  const object = parseObject(request.body);
  if (request.query.get('dryRun') === 'All') {
    sendJson(res, 201, served(object));
    return;
  }
  const strict = request.query.get('fieldValidation') === 'Strict';
  const created = store.create(type, namespace, object, { strict, version });
  if (isCrdType(store, type)) installCrd(store, created);
  sendJson(res, 201, served(store.get(type, namespace, created.metadata.name ?? '')));
}

function update({ request, res, store, served }: HandlerContext): void {
  const { type, namespace, name } = request.route;
  if (name === undefined) throw methodNotAllowed();
  const object = parseObject(request.body);
  const updated = store.update(type, namespace, name, object, writeOptions(request));
  if (isCrdType(store, type)) installCrd(store, updated);
  sendJson(res, 200, served(updated));
}

function patch({ request, res, store, served }: HandlerContext): void {
  const { type, namespace, name } = request.route;
  if (name === undefined) throw methodNotAllowed();
  const current = store.get(type, namespace, name);
  const change = parseJson(request.body);
  const object = patched(current, change, request.contentType);
  object.metadata ??= {};
  // A patch updates the version it read, unless it names one itself (a precondition).
  const named = (change as KubeObject | undefined)?.metadata?.resourceVersion;
  object.metadata.resourceVersion =
    typeof named === 'string' ? named : current.metadata.resourceVersion;
  const updated = store.update(type, namespace, name, object, writeOptions(request));
  if (isCrdType(store, type)) installCrd(store, updated);
  sendJson(res, 200, served(updated));
}

/** The object after a patch of one of the kinds kube-apiserver takes for JSON. */
function patched(current: KubeObject, change: unknown, contentType: string): KubeObject {
  if (
    contentType === 'application/merge-patch+json' ||
    contentType === 'application/strategic-merge-patch+json'
  ) {
    return mergePatch(clone(current), change) as KubeObject;
  }
  if (contentType === 'application/json-patch+json') {
    return jsonPatch(current, change) as KubeObject;
  }
  throw new ApiFailure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (not ${contentType || 'none'})`,
  );
}

function remove({ request, res, store, served }: HandlerContext): void {
  const { type, namespace, name } = request.route;
  if (name === undefined)
    throw methodNotAllowed('deleting a collection is not supported by this server');
  const options =
    request.body === ''
      ? {}
      : (parseJson(request.body) as { preconditions?: { resourceVersion?: string } });
  const deleted = store.delete(type, namespace, name, options?.preconditions?.resourceVersion);
  if (isCrdType(store, type)) uninstallCrd(store, deleted);
  sendJson(res, 200, served(deleted));
}
