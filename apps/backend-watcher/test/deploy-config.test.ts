import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseVmcpConfig } from '../src/vmcp-config.js';

const run = promisify(execFile);
const KUBERNETES = fileURLToPath(new URL('../deploy/kubernetes', import.meta.url));
const overlay = mkdtempSync(join(tmpdir(), 'vmcp-overlay-'));
afterAll(() => rmSync(overlay, { recursive: true, force: true }));

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}

describe('deploy/kubernetes/vmcp-config (the optional component)', () => {
  it('mounts the vMCP config as a directory and points --config at its file', async () => {
    // A user's kustomization: the shipped base plus the component.
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      `resources: [${relative(overlay, KUBERNETES)}]\ncomponents: [${relative(overlay, join(KUBERNETES, 'vmcp-config'))}]\n`,
    );
    const { stdout } = await run('kubectl', ['kustomize', overlay]);
    const objects = parseAllDocuments(stdout).map((d) => d.toJS()) as {
      kind: string;
      metadata: { name: string };
      data?: Record<string, string>;
      spec?: {
        template: {
          spec: {
            containers: Container[];
            volumes: { name: string; configMap?: { name: string } }[];
          };
        };
      };
    }[];
    const configMap = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === 'vmcp-config',
    );
    const pod = objects.find((o) => o.kind === 'Deployment')?.spec?.template.spec;
    const watcher = pod?.containers.find((c) => c.name === 'backend-watcher');
    const path = watcher?.env?.find((e) => e.name === 'VMCP_CONFIG')?.value;
    const mount = watcher?.volumeMounts?.find((m) => m.name === 'vmcp-config');
    expect(path).toBe('/etc/vmcp/config.yaml');
    // A subPath mount never sees an update of the ConfigMap: the directory is mounted.
    expect(mount).toEqual({ name: 'vmcp-config', mountPath: '/etc/vmcp', readOnly: true });
    expect(pod?.volumes).toContainEqual({
      name: 'vmcp-config',
      configMap: { name: 'vmcp-config' },
    });
    // The base's own settings are kept.
    expect(watcher?.env?.map((e) => e.name)).toEqual(
      expect.arrayContaining(['VMCP_GROUP', 'POD_NAMESPACE']),
    );
    // The example config reads well, as the sidecar reads it.
    const config = parseVmcpConfig(configMap?.data?.['config.yaml'] ?? '', path ?? '', {});
    expect(config.groupRef).toBe('engineering');
    expect(config.outgoingAuth?.summary()).toEqual({
      source: 'discovered',
      default: 'unauthenticated',
      backends: {},
    });
  });
});
