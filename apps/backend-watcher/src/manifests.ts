import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isConflict,
  type KubeClient,
  type KubeObject,
  ResourceClient,
  type ResourceRef,
} from '@vmcp/kube-runtime';
import { parseAllDocuments } from 'yaml';

const PLURALS: Record<string, string> = {
  MCPGroup: 'mcpgroups',
  MCPServer: 'mcpservers',
  MCPRemoteProxy: 'mcpremoteproxies',
  MCPServerEntry: 'mcpserverentries',
  MCPExternalAuthConfig: 'mcpexternalauthconfigs',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
};

/** Reads every YAML document of the `.yaml`/`.yml` files of a directory, in file-name order. */
export function readManifests(directory: string): KubeObject[] {
  const files = readdirSync(directory)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
  const objects: KubeObject[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(join(directory, file), 'utf8'))) {
      if (document.errors.length > 0) {
        throw new Error(`${file}: ${document.errors[0]?.message.split('\n')[0]}`);
      }
      const object = document.toJS() as KubeObject | null;
      if (object && typeof object === 'object' && typeof object.kind === 'string') {
        objects.push(object);
      }
    }
  }
  return objects;
}

/** The resource of a manifest's kind, for the kinds the examples use. */
export function resourceOf(object: KubeObject): ResourceRef {
  const kind = object.kind ?? '';
  const plural = Object.hasOwn(PLURALS, kind) ? PLURALS[kind] : undefined;
  const [group, version] = (object.apiVersion ?? '').includes('/')
    ? (object.apiVersion as string).split('/')
    : ['', object.apiVersion ?? 'v1'];
  if (plural === undefined || version === undefined) {
    throw new Error(`no resource known for ${object.apiVersion} ${kind}`);
  }
  return { group: group ?? '', version, plural, kind };
}

/**
 * Creates (or replaces) each object in the namespace, then writes its `status` block, if any,
 * through the status subresource: the examples carry the status an operator would set.
 */
export async function applyManifests(
  client: KubeClient,
  namespace: string,
  objects: readonly KubeObject[],
): Promise<void> {
  for (const object of objects) {
    const resources = new ResourceClient(client, resourceOf(object), namespace);
    const { status, ...spec } = object as KubeObject & { status?: unknown };
    const body = { ...spec, metadata: { ...spec.metadata, namespace } } as KubeObject;
    let stored: KubeObject;
    try {
      stored = await resources.create(body);
    } catch (error) {
      if (!isConflict(error)) throw error;
      const current = await resources.get(body.metadata.name ?? '');
      stored = await resources.replace({
        ...body,
        metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion },
      } as KubeObject);
    }
    if (status !== undefined && object.kind !== 'ConfigMap' && object.kind !== 'Secret') {
      await resources.patchStatus(stored.metadata.name ?? '', { status });
    }
  }
}
