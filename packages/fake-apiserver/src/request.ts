import type { IncomingMessage } from 'node:http';
import { decodeProtobufObject } from './protobuf.js';
import { ApiFailure } from './status.js';
import type { ObjectStore, ResourceType } from './store.js';
import type { KubeObject } from './types.js';

/** What a resource path names. */
export interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  /** The only subresource served. */
  subresource: 'status' | undefined;
  version: string;
}

/** A route before its subresource is checked. */
type PathRoute = Omit<Route, 'subresource'> & { subresource: string | undefined };

/** A request to a resource, parsed and checked before any handler sees it. */
export interface ApiRequest {
  method: string;
  query: URLSearchParams;
  route: Route;
  /** The body as text ('' when there is none). */
  body: string;
  /** The body's media type, without parameters. */
  contentType: string;
  accept: string | undefined;
}

const notFound = () =>
  new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/**
 * Parses a request to a resource, failing as kube-apiserver does: 404 for a path that names no
 * served resource or an unknown subresource, 413 for a body over 3 MiB, 400 for a missing body.
 * A protobuf body (what kubectl's `create namespace|configmap|secret` send) is decoded into JSON
 * for a create or an update of the kinds `decodeProtobufObject` knows; anything else in protobuf
 * is 415.
 */
export async function parseRequest(
  req: IncomingMessage,
  url: URL,
  path: string,
  store: ObjectStore,
): Promise<ApiRequest> {
  const { subresource, ...route } = routeOf(store, path);
  const sent = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const method = req.method ?? 'GET';
  if (sent === PROTOBUF && method !== 'POST' && method !== 'PUT') {
    throw new ApiFailure(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json (this fake API server decodes protobuf for creates and updates only)',
    );
  }
  const bytes = await readBody(req, method === 'GET' || method === 'DELETE');
  const body =
    sent === PROTOBUF ? JSON.stringify(decodeProtobufObject(bytes)) : bytes.toString('utf8');
  const contentType = sent === PROTOBUF ? 'application/json' : sent;
  if (subresource !== undefined && subresource !== 'status') throw notFound();
  if (subresource === 'status' && !route.type.statusSubresource) throw notFound();
  return {
    method,
    query: url.searchParams,
    route: { ...route, subresource },
    body,
    contentType,
    accept: req.headers.accept,
  };
}

/** The resource a path names: `/api/v1/...` or `/apis/group/version/...`. */
function routeOf(store: ObjectStore, path: string): PathRoute {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1]) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts[1] && parts[2]) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    throw notFound();
  }
  let namespace: string | undefined;
  // `namespaces/{ns}/{plural}...` is namespaced, unless it is the namespace object itself.
  const namespaceSubresource =
    group === '' &&
    rest[0] === 'namespaces' &&
    rest.length === 3 &&
    (rest[2] === 'status' || rest[2] === 'finalize');
  if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural = '', name, subresource] = rest;
  const type = store.findType(group, version, plural);
  if (!type || (namespace !== undefined && !type.namespaced)) throw notFound();
  if (rest.length > 3) throw notFound();
  return { type, namespace, name, subresource, version };
}

async function readBody(req: IncomingMessage, optional: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 3 * 1024 * 1024)
      throw new ApiFailure(413, 'RequestEntityTooLarge', 'the request body is larger than 3 MiB');
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  if (!optional && bytes.length === 0) throw ApiFailure.badRequest('the request needs a body');
  return bytes;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // kubectl and most clients send JSON; YAML bodies are not accepted by this server.
    throw ApiFailure.badRequest('the request body is not valid JSON');
  }
}

export function parseObject(text: string): KubeObject {
  const value = parseJson(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw ApiFailure.badRequest('the request body is not a Kubernetes object');
  }
  return value as KubeObject;
}
