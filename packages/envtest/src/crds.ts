import { readFileSync } from 'node:fs';
import { downgradeCrd } from '@vmcp/toolhive-crds';
import { parse } from 'yaml';
import type { ApiConnection } from './http.js';
import { apiRequest } from './http.js';
import { checkWaitMs, until } from './wait.js';

interface Crd {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * Installs CRD manifests (downgraded for 1.20) and waits until each is Established and served,
 * at most `timeoutMs` (1 ms to 1 h, else a `RangeError`; default 30 s). Already installed CRDs
 * are replaced.
 */
export async function installCrds(
  connection: ApiConnection,
  paths: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + checkWaitMs('timeoutMs', timeoutMs, 1, 3_600_000);
  const crds = paths.map((path) => parse(readFileSync(path, 'utf8')) as ServedCrd);
  for (const crd of crds) await createOrReplace(connection, downgradeCrd(crd));
  for (const crd of crds) {
    await until(
      async () => {
        const { body } = await apiRequest(connection, 'GET', `${CRDS}/${crd.metadata.name}`);
        const conditions = (body as Crd).status?.conditions ?? [];
        return conditions.some((c) => c.type === 'Established' && c.status === 'True');
      },
      {
        deadline,
        intervalMs: 100,
        timedOut: `CRD ${crd.metadata.name} not Established within ${timeoutMs} ms`,
      },
    );
  }
  // Established CRDs are served a moment later by discovery; wait for each plural to answer.
  for (const crd of crds) {
    const version = crd.spec.versions.find((v) => v.storage)?.name ?? crd.spec.versions[0]?.name;
    const path = `/apis/${crd.spec.group}/${version}/${crd.spec.names.plural}?limit=1`;
    await until(async () => (await apiRequest(connection, 'GET', path)).status === 200, {
      deadline,
      intervalMs: 100,
      timedOut: `${crd.spec.names.plural} not served within ${timeoutMs} ms`,
    });
  }
}

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface ServedCrd extends Crd {
  spec: {
    group: string;
    names: { plural: string };
    versions: { name: string; storage?: boolean }[];
  };
}

/** Creates the CRD, or replaces the one installed under its name. */
async function createOrReplace(connection: ApiConnection, crd: Crd): Promise<void> {
  const created = await apiRequest(connection, 'POST', CRDS, crd);
  if (created.status === 409) {
    const current = await apiRequest(connection, 'GET', `${CRDS}/${crd.metadata.name}`);
    const resourceVersion = (current.body as { metadata: { resourceVersion: string } }).metadata
      .resourceVersion;
    const replaced = await apiRequest(connection, 'PUT', `${CRDS}/${crd.metadata.name}`, {
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
