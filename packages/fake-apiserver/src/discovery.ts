import { ApiFailure } from './status.js';
import type { ObjectStore, ResourceType } from './store.js';

// Discovery (/version, /api, /apis and their groups and versions) and OpenAPI, built from the
// types the store serves at the moment of the request: enough for kubectl and client-go.

const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-vmcp-fake',
  gitCommit: 'fake',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'none',
  compiler: 'node',
  platform: `${process.platform}/${process.arch}`,
};

/** The discovery document at `path`, or undefined when the path is not a discovery path. */
export function discoveryDocument(path: string, store: ObjectStore, address: string): unknown {
  if (path === '/version') return VERSION_INFO;
  if (path === '/api') {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }],
    };
  }
  if (path === '/api/v1') return resourceList(store, '', 'v1');
  if (path === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groupsOf(store)].map(([name, types]) => groupInfo(name, types)),
    };
  }
  const match = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!match) return undefined;
  const [, group = '', version] = match;
  const types = groupsOf(store).get(group);
  if (!types) return undefined;
  if (version === undefined)
    return { kind: 'APIGroup', apiVersion: 'v1', ...groupInfo(group, types) };
  if (!types.some((t) => t.versions.includes(version))) return undefined;
  return resourceList(store, group, version);
}

function groupsOf(store: ObjectStore): Map<string, ResourceType[]> {
  const groups = new Map<string, ResourceType[]>();
  for (const type of store.types.values()) {
    if (type.group === '') continue;
    groups.set(type.group, [...(groups.get(type.group) ?? []), type]);
  }
  return groups;
}

function groupInfo(name: string, types: ResourceType[]) {
  const versions = [...new Set(types.flatMap((t) => t.versions))];
  const preferred = types[0]?.versions[0] ?? versions[0] ?? 'v1';
  return {
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${preferred}`, version: preferred },
  };
}

function resourceList(store: ObjectStore, group: string, version: string): unknown {
  const resources: unknown[] = [];
  for (const type of store.types.values()) {
    if (type.group !== group || !type.versions.includes(version)) continue;
    resources.push({
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
      storageVersionHash: Buffer.from(`${group}/${type.plural}`).toString('base64').slice(0, 11),
    });
    if (type.statusSubresource) {
      resources.push({
        name: `${type.plural}/status`,
        singularName: '',
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

/**
 * The OpenAPI v2 document: no schemas (see openapi-v2.ts), served as JSON or, when asked, as
 * protobuf.
 */
export const OPENAPI_V2 = {
  swagger: '2.0',
  info: { title: 'vmcp-fake-apiserver', version: 'v1.32.0' },
  paths: {},
  definitions: {},
};

/** OpenAPI v3 (and a minimal v2) built from the CRD schemas, enough for kubectl. */
export function openapiDocument(path: string, store: ObjectStore): unknown {
  const groupVersions = new Map<string, ResourceType[]>();
  for (const type of store.types.values()) {
    for (const version of type.versions) {
      const gv = type.group ? `apis/${type.group}/${version}` : `api/${version}`;
      groupVersions.set(gv, [...(groupVersions.get(gv) ?? []), type]);
    }
  }
  if (path === '/openapi/v3') {
    return {
      paths: Object.fromEntries(
        [...groupVersions.keys()].map((gv) => [
          gv,
          { serverRelativeURL: `/openapi/v3/${gv}?hash=${store.resourceVersion}` },
        ]),
      ),
    };
  }
  if (path === '/openapi/v2') return OPENAPI_V2;
  const gv = path.replace(/^\/openapi\/v3\//, '');
  const types = groupVersions.get(gv);
  if (!types)
    throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
  return groupVersionDocument(gv, types);
}

/** The OpenAPI v3 document of one group version: a schema and the paths of each kind. */
function groupVersionDocument(gv: string, types: readonly ResourceType[]): unknown {
  const version = gv.split('/').at(-1) ?? 'v1';
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  const param = (name: string) => ({
    name,
    in: 'query',
    schema: { type: 'string', uniqueItems: true },
  });
  for (const type of types) {
    const id = `${type.group ? type.group.split('.').reverse().join('.') : 'io.k8s.api.core'}.${version}.${type.kind}`;
    const schema = type.schemas.get(version) ?? {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    };
    schemas[id] = {
      ...schema,
      'x-kubernetes-group-version-kind': [{ group: type.group, version, kind: type.kind }],
    };
    const base = `/${gv}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
    const ref = {
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${id}` } } },
    };
    const operations = {
      'x-kubernetes-group-version-kind': { group: type.group, version, kind: type.kind },
      parameters: [param('dryRun'), param('fieldManager'), param('fieldValidation')],
      requestBody: ref,
      responses: { '200': { description: 'OK', ...ref } },
    };
    paths[base] = { get: { responses: { '200': { description: 'OK' } } }, post: operations };
    paths[`${base}/{name}`] = {
      get: { responses: { '200': { description: 'OK', ...ref } } },
      put: operations,
      patch: operations,
      delete: { responses: { '200': { description: 'OK' } } },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'vmcp-fake-apiserver', version: 'v1.32.0' },
    paths,
    components: { schemas },
  };
}
