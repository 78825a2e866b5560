/**
 * The sidecar in-process with a vMCP config file in a directory laid out and updated as the
 * kubelet mounts a ConfigMap, against the in-process API server: the scenario the reconciler's
 * tests run on the BackendWatcher, then reloads (a changed source, a file that does not read
 * well, a changed header), seen through the HTTP API as a vMCP server sees them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import type { KubeObject } from '@vmcp/kube-runtime';
import type { Backend } from '@vmcp/registry';
import {
  ConfigMapMount,
  eventually,
  expectedScenarioAuth,
  SCENARIO_ENV,
  type ScenarioConfig,
  scenarioObjects,
  vmcpConfigYaml,
} from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVmcpConfig, type Sidecar, startSidecar } from '../src/index.js';

const NS = 'default';
const TOKEN = 'sidecar-outgoing-auth-token';
const NAMES = ['broken', 'fetch', 'github', 'jira', 'wiki'];

let fake: FakeApiServer;
let dir: string;
let mount: ConfigMapMount;
let sidecar: Sidecar;

beforeAll(async () => {
  // The default strategy's value comes from the sidecar's environment, at start and on reload.
  Object.assign(process.env, SCENARIO_ENV);
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  fake.load(scenarioObjects(NS) as KubeObject[]);
  dir = mkdtempSync(join(tmpdir(), 'vmcp-config-mount-'));
  mount = new ConfigMapMount(dir);
  mount.write({ 'config.yaml': vmcpConfigYaml(), 'other-key.json': '{}' });
  sidecar = await startSidecar({
    kubeConfig: fake.kubeConfig,
    namespace: NS,
    vmcpConfig: loadVmcpConfig(mount.path('config.yaml')),
    listen: '127.0.0.1:0',
    apiToken: TOKEN,
    configReloadDebounceMs: 50,
  });
  expect(await sidecar.watcher.waitForRegistrySync({ timeoutMs: 30_000 })).toBe(true);
});
afterAll(async () => {
  await sidecar?.close();
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const name of Object.keys(SCENARIO_ENV)) delete process.env[name];
});

async function served(): Promise<{ version: number; backends: Backend[] }> {
  const response = await fetch(`${sidecar.url}/v1/backends`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return (await response.json()) as { version: number; backends: Backend[] };
}

/** Each scenario name's auth as served: `{ authConfig, authConfigRef }`, or null. */
async function servedAuth() {
  const { backends } = await served();
  return Object.fromEntries(
    NAMES.map((name) => {
      const backend = backends.find((b) => b.id === name);
      return [
        name,
        backend === undefined
          ? null
          : {
              ...(backend.authConfig ? { authConfig: backend.authConfig } : {}),
              ...(backend.authConfigRef ? { authConfigRef: backend.authConfigRef } : {}),
            },
      ];
    }),
  );
}

const configure = (config: ScenarioConfig) =>
  mount.write({ 'config.yaml': vmcpConfigYaml(config), 'other-key.json': '{}' });
const readyz = async () =>
  (await (await fetch(`${sidecar.url}/readyz`)).json()) as Record<string, unknown>;
const configValid = async () =>
  /^vmcp_config_valid (\d)$/m.exec(await (await fetch(`${sidecar.url}/metrics`)).text())?.[1];

describe('the sidecar with --config', () => {
  it('serves every backend with the auth the file resolves to, with group metadata', async () => {
    expect(await servedAuth()).toEqual(expectedScenarioAuth({}));
    const { backends } = await served();
    expect(new Set(backends.map((b) => b.metadata.group))).toEqual(new Set(['engineering']));
    expect(await readyz()).toEqual({
      status: 'ready',
      config: { path: mount.path('config.yaml'), valid: true },
    });
    expect(await configValid()).toBe('1');
  });

  it('explains a backend with the auth the file gives it, redacted', async () => {
    const explain = async (name: string) =>
      (await (
        await fetch(`${sidecar.url}/v1/explain/${name}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).json()) as { backend: Backend; authSource: string; detail?: string };
    const wiki = await explain('wiki');
    expect(wiki.backend.authConfig).toEqual({
      type: 'header_injection',
      headerName: 'X-Default-Token',
      headerValue: '[REDACTED]',
    });
    expect(wiki.authSource).toBe('outgoingAuth.default');
    expect((await explain('github')).authSource).toBe('discovered');
    expect((await explain('fetch')).authSource).toBe('outgoingAuth.backends.fetch');
    expect((await explain('broken')).detail).toContain('no-such-auth-config');
  });

  it('follows a swap of the mounted file: another source re-resolves every backend', async () => {
    configure({ source: 'inline' });
    await eventually(async () =>
      expect(await servedAuth()).toEqual(expectedScenarioAuth({ source: 'inline' })),
    );
    configure({});
    await eventually(async () => expect(await servedAuth()).toEqual(expectedScenarioAuth({})));
  });

  it('keeps the last good config while the file does not read well, and says so', async () => {
    const before = await served();
    mount.write({
      'config.yaml': 'outgoingAuth:\n  source: discovered\n  default: { type: bearer }\n',
    });
    await eventually(async () => expect(await configValid()).toBe('0'));
    expect(await readyz()).toEqual({
      status: 'ready',
      config: {
        path: mount.path('config.yaml'),
        valid: false,
        error: `${mount.path('config.yaml')}: outgoingAuth.default.type: unknown strategy type "bearer"; known: unauthenticated, header_injection, token_exchange, upstream_inject, aws_sts, obo, xaa`,
        invalidSince: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
    expect(await served()).toEqual(before);
  });

  it('takes a good file again: only the backend whose header changed moves, by one version', async () => {
    const before = await served();
    configure({ fetchValue: 'fetch-key-2' });
    await eventually(async () => expect(await configValid()).toBe('1'));
    await eventually(async () => expect((await served()).version).toBe(before.version + 1));
    const after = await served();
    expect(after.backends.filter((b) => b.id !== 'fetch')).toEqual(
      before.backends.filter((b) => b.id !== 'fetch'),
    );
    expect(after.backends.find((b) => b.id === 'fetch')?.authConfig).toMatchObject({
      headerValue: 'fetch-key-2',
    });
    expect((await readyz()).config).toEqual({ path: mount.path('config.yaml'), valid: true });
  });
});
