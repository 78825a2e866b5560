import type { ServerResponse } from 'node:http';
import { asServed, type Media } from './media.js';
import type { ResourceType } from './store.js';
import type { KubeObject } from './types.js';

export const JSON_TYPE = 'application/json';

/** Answers with a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** `group/version` of a type, or the bare version of the core group. */
export function apiVersionOf(type: ResourceType, version: string): string {
  return type.group ? `${type.group}/${version}` : version;
}

/** The object as served in the requested version (no conversion: schemas share fields). */
export function withVersion(object: KubeObject, type: ResourceType, version: string): KubeObject {
  const apiVersion = apiVersionOf(type, version);
  return object.apiVersion === apiVersion ? object : { ...object, apiVersion };
}

/** The object as a response serves it: in the requested version and media. */
export function servedAs(type: ResourceType, version: string, media: Media) {
  return (object: KubeObject): KubeObject => asServed(withVersion(object, type, version), media);
}
