/**
 * The built sidecar with `--config` pointing into a directory that is laid out and rewritten as
 * the kubelet rewrites a mounted ConfigMap (a symlink swap of `..data`), against a real
 * kube-apiserver: the shared scenario at start, then a rewrite that changes one backend's header
 * and nothing else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { RESOURCES } from '@vmcp/reconciler';
import type { Backend } from '@vmcp/registry';
import {
  ConfigMapMount,
  eventually,
  expectedScenarioAuth,
  SCENARIO_ENV,
  scenarioObjects,
  vmcpConfigYaml,
} from '@vmcp/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliProcess, SIDECAR_READY_TIMEOUT_MS } from './support/process.js';

const NS = 'default';
const TOKEN = 'outgoing-auth-envtest-token';

let env: Env;
let dir: string;
let mount: ConfigMapMount;
let cli: CliProcess | undefined;

beforeAll(async () => {
  env = await startEnv({ watchCache: false });
  const client = new KubeClient(env.kubeConfig);
  for (const object of scenarioObjects(NS) as KubeObject[]) {
    const kind = object.kind as keyof typeof RESOURCES;
    const resource = new ResourceClient(client, RESOURCES[kind], NS);
    const { status, ...rest } = object as KubeObject & { status?: object };
    await resource.create(rest as KubeObject);
    if (status !== undefined)
      await resource.patchStatus(object.metadata.name as string, { status });
  }
  await client.close();
  dir = mkdtempSync(join(tmpdir(), 'vmcp-config-envtest-'));
  mount = new ConfigMapMount(join(dir));
  mount.write({ 'config.yaml': vmcpConfigYaml(), token: TOKEN });
});
afterAll(async () => {
  cli?.kill();
  await env?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(({ onTestFailed }) =>
  onTestFailed(() => {
    console.error(env.logs(20));
    if (cli) console.error(cli.stdout.slice(-4000), cli.stderr.slice(-2000));
  }),
);

async function served(url: string): Promise<{ version: number; backends: Backend[] }> {
  const response = await fetch(`${url}/v1/backends`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return (await response.json()) as { version: number; backends: Backend[] };
}

describe('vmcp-backend-watcher --config on a real API server', () => {
  it('serves the auth the file resolves, then follows a kubelet-style rewrite of one header only', async () => {
    // No --group: the file's groupRef is the group.
    cli = new CliProcess(
      [
        '--config',
        mount.path('config.yaml'),
        '--namespace',
        NS,
        '--kubeconfig',
        env.kubeconfigPath,
        '--listen',
        '127.0.0.1:0',
        '--api-token-file',
        mount.path('token'),
      ],
      { ...SCENARIO_ENV },
    );
    const url = (await cli.waitForLog('serving')).url as string;
    await eventually(
      async () => expect((await fetch(`${url}/readyz`)).status).toBe(200),
      SIDECAR_READY_TIMEOUT_MS,
    );
    const expected = expectedScenarioAuth({});
    const before = await served(url);
    for (const [name, auth] of Object.entries(expected)) {
      const backend = before.backends.find((b) => b.id === name);
      if (auth === null) expect(backend, name).toBeUndefined();
      else {
        expect(backend?.authConfig, name).toEqual(auth.authConfig);
        expect(backend?.authConfigRef, name).toBe(auth.authConfigRef);
        expect(backend?.metadata.group, name).toBe('engineering');
      }
    }

    mount.write({
      'config.yaml': vmcpConfigYaml({ fetchValue: 'fetch-key-rotated' }),
      token: TOKEN,
    });
    await eventually(
      async () => expect((await served(url)).version).toBe(before.version + 1),
      SIDECAR_READY_TIMEOUT_MS,
    );
    const after = await served(url);
    expect(after.backends.filter((b) => b.id !== 'fetch')).toEqual(
      before.backends.filter((b) => b.id !== 'fetch'),
    );
    expect(after.backends.find((b) => b.id === 'fetch')).toEqual({
      ...before.backends.find((b) => b.id === 'fetch'),
      authConfig: {
        type: 'header_injection',
        headerName: 'X-Api-Key',
        headerValue: 'fetch-key-rotated',
      },
    });
    // The version stepped once, and stays there: nothing else was re-resolved into a change.
    expect(cli.logs().filter((line) => line.msg === 'vMCP config reloaded')).toHaveLength(1);
    expect((await served(url)).version).toBe(before.version + 1);
    // The logs name what changed without any value of the file.
    expect(cli.stdout).not.toContain('fetch-key-rotated');
    expect(cli.stdout).not.toContain(SCENARIO_ENV.VMCP_SCENARIO_DEFAULT_TOKEN);
  });
});
