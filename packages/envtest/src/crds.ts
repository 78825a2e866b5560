import { readFileSync } from 'node:fs';
import { downgradeCrd } from '@vmcp/toolhive-crds';
import { parse } from 'yaml';
import type { ApiConnection } from './http.js';
import { apiRequest } from './http.js';

interface Crd {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * Installs CRD manifests (downgraded for 1.20) and waits until each is Established. Already
 * installed CRDs are replaced.
 */
export async function installCrds(
  connection: ApiConnection,
  paths: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const names: string[] = [];
  for (const path of paths) {
    const crd = downgradeCrd(parse(readFileSync(path, 'utf8')) as Crd);
    names.push(crd.metadata.name);
    const created = await apiRequest(connection, 'POST', base, crd);
    if (created.status === 409) {
      const current = await apiRequest(connection, 'GET', `${base}/${crd.metadata.name}`);
      const resourceVersion = (current.body as { metadata: { resourceVersion: string } }).metadata
        .resourceVersion;
      const replaced = await apiRequest(connection, 'PUT', `${base}/${crd.metadata.name}`, {
        ...crd,
        metadata: { ...crd.metadata, resourceVersion },
      });
      if (replaced.status >= 300)
        throw new Error(`replacing CRD ${crd.metadata.name}: HTTP ${replaced.status}`);
    } else if (created.status >= 300) {
      throw new Error(
        `installing CRD ${crd.metadata.name}: HTTP ${created.status} ${JSON.stringify(created.body)}`,
      );
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const { body } = await apiRequest(connection, 'GET', `${base}/${name}`);
      const conditions = (body as Crd).status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline)
        throw new Error(`CRD ${name} not Established within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  // Established CRDs are served a moment later by discovery; wait for each plural to answer.
  for (const path of paths) {
    const crd = parse(readFileSync(path, 'utf8')) as {
      spec: {
        group: string;
        names: { plural: string };
        versions: { name: string; storage?: boolean }[];
      };
    };
    const version = crd.spec.versions.find((v) => v.storage)?.name ?? crd.spec.versions[0]?.name;
    for (;;) {
      const { status } = await apiRequest(
        connection,
        'GET',
        `/apis/${crd.spec.group}/${version}/${crd.spec.names.plural}?limit=1`,
      );
      if (status === 200) break;
      if (Date.now() > deadline)
        throw new Error(`${crd.spec.names.plural} not served within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
