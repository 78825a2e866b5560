import { ApiFailure } from './status.js';
import type { KubeObject } from './types.js';

/**
 * What a response's objects are served as: whole objects, or `PartialObjectMetadata` (metadata
 * only) in a `meta.k8s.io` version, as kube-apiserver serves them to client-go's metadata client.
 */
export type Media = { metadataOnly: false } | { metadataOnly: true; version: string };

/** What a request reads: one object, a list, or a watch stream of objects. */
export type Shape = 'object' | 'list' | 'watch';

const WHOLE: Media = { metadataOnly: false };
const META_VERSIONS = new Set(['v1', 'v1beta1']);

/**
 * Picks the first media type of an `Accept` header that this server serves, as kube-apiserver
 * does: `application/json` (or a wildcard) for whole objects; with `as=PartialObjectMetadata`
 * (one object, a watch) or `as=PartialObjectMetadataList` (a list), `g=meta.k8s.io` and
 * `v=v1`/`v1beta1`, for metadata only. Types it does not serve (protobuf, YAML, `as=Table`) are
 * passed over; when none is left the answer is 406, and a metadata type for the wrong shape (an
 * object type for a list) is 406 too, as there.
 */
export function negotiate(accept: string | undefined, shape: Shape): Media {
  if (accept === undefined || accept.trim() === '') return WHOLE;
  for (const range of accept.split(',')) {
    const media = served(range, shape);
    if (media !== undefined) return media;
  }
  throw new ApiFailure(
    406,
    'NotAcceptable',
    'only the following media types are accepted: application/json, application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  );
}

/** What one media range of an `Accept` header is served as; undefined when it is not served. */
function served(range: string, shape: Shape): Media | undefined {
  const [type = '', ...parameters] = range.split(';').map((part) => part.trim());
  if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') return undefined;
  const params = new Map<string, string>();
  for (const parameter of parameters) {
    const equals = parameter.indexOf('=');
    if (equals > 0)
      params.set(parameter.slice(0, equals).trim(), parameter.slice(equals + 1).trim());
  }
  const as = params.get('as');
  if (as === undefined) return WHOLE;
  const version = params.get('v') ?? '';
  if (params.get('g') !== 'meta.k8s.io' || !META_VERSIONS.has(version)) return undefined;
  if (as === 'PartialObjectMetadata') {
    if (shape === 'list')
      throw notAcceptable('PartialObjectMetadata, but the requested object is a list');
    return { metadataOnly: true, version };
  }
  if (as === 'PartialObjectMetadataList') {
    if (shape !== 'list')
      throw notAcceptable('PartialObjectMetadataList, but the requested object is not a list');
    return { metadataOnly: true, version };
  }
  return undefined;
}

function notAcceptable(what: string): ApiFailure {
  return new ApiFailure(406, 'NotAcceptable', `you requested ${what}`);
}

/** The object as this media serves it: itself, or its `PartialObjectMetadata`. */
export function asServed(object: KubeObject, media: Media): KubeObject {
  if (!media.metadataOnly) return object;
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: `meta.k8s.io/${media.version}`,
    metadata: object.metadata,
  };
}

/** A list as this media serves it: the resource's list kind, or `PartialObjectMetadataList`. */
export function listAsServed(
  list: { apiVersion: string; kind: string; metadata: unknown; items: KubeObject[] },
  media: Media,
): unknown {
  if (!media.metadataOnly) return list;
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: `meta.k8s.io/${media.version}`,
    metadata: list.metadata,
    items: list.items.map((item) => asServed(item, media)),
  };
}
