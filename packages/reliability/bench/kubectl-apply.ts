/**
 * Creating objects as GitOps tools and people do: `kubectl apply` (client-side apply), which
 * keeps a copy of each object in its `kubectl.kubernetes.io/last-applied-configuration`
 * annotation. kubectl is found on the PATH (as the fake API server's kubectl tests find it);
 * without it, the objects are POSTed with the annotation written exactly as kubectl writes it
 * (the object as applied, keys sorted, with the namespace and an empty `annotations`, then a
 * newline), and the bench says which it did.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeClient, KubeObject, ResourceRef } from '@vmcp/kube-runtime';
import { ResourceClient } from '@vmcp/kube-runtime';
import { inParallel } from './measure.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Whether kubectl runs here. */
export function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

/** A JSON value with its object keys sorted, as Go's encoding/json writes a map. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
  );
}

/** The annotation `kubectl apply` writes for an object it creates in `namespace`. */
export function lastAppliedOf(object: KubeObject, namespace: string): string {
  const { [LAST_APPLIED]: _previous, ...annotations } = object.metadata.annotations ?? {};
  return `${JSON.stringify(sorted({ ...object, metadata: { ...object.metadata, annotations, namespace } }))}\n`;
}

/**
 * Creates the objects in `namespace` with `kubectl apply` (one List manifest), or, without
 * kubectl, by POST with kubectl's annotation. Resolves with how it was done.
 */
export async function kubectlApply(
  options: { client: KubeClient; kubeconfigPath: string; resource: ResourceRef },
  namespace: string,
  objects: KubeObject[],
): Promise<'kubectl apply' | 'POST with the annotation kubectl writes'> {
  if (hasKubectl()) {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-bench-apply-'));
    try {
      const manifest = join(dir, 'objects.json');
      writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
      await promisify(execFile)(
        'kubectl',
        ['--kubeconfig', options.kubeconfigPath, '-n', namespace, 'apply', '-f', manifest],
        { maxBuffer: 64 * 1024 * 1024 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return 'kubectl apply';
  }
  const resources = new ResourceClient(options.client, options.resource, namespace);
  await inParallel(objects, 16, async (object) => {
    const annotations = {
      ...object.metadata.annotations,
      [LAST_APPLIED]: lastAppliedOf(object, namespace),
    };
    await resources.create({ ...object, metadata: { ...object.metadata, annotations } });
  });
  return 'POST with the annotation kubectl writes';
}
