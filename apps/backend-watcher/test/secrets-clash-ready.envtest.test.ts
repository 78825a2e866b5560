/**
 * The built sidecar, run as the shipped Role's user on a real API server: a rotated Secret served
 * within the secret refresh period with the resync off; a name clash across groups that no longer
 * hides our backend; and the sidecar's own permission to read Secrets withdrawn and restored with
 * the resync on: what it serves is kept (counted, logged with reason `forbidden`, explained), and
 * a sidecar started meanwhile turns ready at its bound with `/readyz` naming what it cannot read.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient, type ResourceRef } from '@vmcp/kube-runtime';
import type { Backend } from '@vmcp/registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import {
  API,
  type Clients,
  clientsFor,
  createSecretServer,
  createServer,
} from './support/cluster.js';
import { CliProcess } from './support/process.js';

const NS = 'default';
const TOKEN = 'issue-24-api-token';
const KUBERNETES = fileURLToPath(new URL('../deploy/kubernetes', import.meta.url));
/** A ceiling for anything that waits on real processes: generous for a busy machine. */
const PATIENCE = { timeout: 60_000, interval: 100 };
const RBAC = { group: 'rbac.authorization.k8s.io', version: 'v1' };
const ROLE: ResourceRef = { ...RBAC, plural: 'roles', kind: 'Role' };
const BINDING: ResourceRef = { ...RBAC, plural: 'rolebindings', kind: 'RoleBinding' };

interface Rule {
  resources: string[];
}
const shippedRole = parse(readFileSync(`${KUBERNETES}/role.yaml`, 'utf8')) as KubeObject & {
  rules: Rule[];
};

let env: Env;
let clients: Clients;
let roles: ResourceClient;
let tokenFile: string;
const sidecars: CliProcess[] = [];

/** The shipped Role, with or without its `get` on Secrets. */
async function grant(secrets: boolean): Promise<void> {
  const rules = secrets
    ? shippedRole.rules
    : shippedRole.rules.filter((rule) => !rule.resources.includes('secrets'));
  const current = await roles.get('vmcp-backend-watcher');
  await roles.replace({
    ...shippedRole,
    metadata: { name: 'vmcp-backend-watcher', resourceVersion: current.metadata.resourceVersion },
    rules,
  } as KubeObject);
}

/** The built sidecar as the non-admin user bound to the shipped Role. */
async function startSidecar(
  group: string,
  flags: string[],
): Promise<{ cli: CliProcess; url: string }> {
  const cli = new CliProcess([
    '--group',
    group,
    '--namespace',
    NS,
    '--kubeconfig',
    env.nonAdmin.kubeconfigPath,
    '--listen',
    '127.0.0.1:0',
    '--api-token-file',
    tokenFile,
    '--grace-period',
    '2s',
    ...flags,
  ]);
  sidecars.push(cli);
  const url = (await cli.waitForLog('serving', PATIENCE.timeout)).url as string;
  return { cli, url };
}

async function list(url: string): Promise<{ version: number; backends: Backend[] }> {
  const response = await fetch(`${url}/v1/backends`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: AbortSignal.timeout(5_000),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { version: number; backends: Backend[] };
}
const served = async (url: string, name: string) =>
  (await list(url)).backends.find((backend) => backend.id === name);
const headerValue = (backend: Backend | undefined): unknown =>
  (backend?.authConfig as { headerValue?: unknown } | undefined)?.headerValue;

async function explain(url: string, name: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/v1/explain/${name}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return (await response.json()) as Record<string, unknown>;
}

const secretServer = (name: string, group: string, value: string) =>
  createSecretServer(clients, name, group, value);
const server = (name: string, group: string) => createServer(clients, name, group);

async function entry(name: string, group: string): Promise<void> {
  await clients.MCPServerEntry.create({
    apiVersion: API,
    kind: 'MCPServerEntry',
    metadata: { name },
    spec: {
      remoteUrl: `https://${name}.example/mcp`,
      transport: 'streamable-http',
      groupRef: { name: group },
    },
  } as KubeObject);
  await clients.MCPServerEntry.patchStatus(name, { status: { phase: 'Valid' } });
}

beforeAll(async () => {
  env = await startEnv({ timeoutMs: 120_000 });
  const admin = new KubeClient(env.kubeConfig);
  clients = clientsFor(admin, NS);
  roles = new ResourceClient(admin, ROLE, NS);
  await roles.create({ ...shippedRole, metadata: { name: 'vmcp-backend-watcher' } } as KubeObject);
  const binding = parse(readFileSync(`${KUBERNETES}/rolebinding.yaml`, 'utf8')) as KubeObject;
  await new ResourceClient(admin, BINDING, NS).create({
    ...binding,
    subjects: [{ kind: 'User', name: env.nonAdmin.username, apiGroup: RBAC.group }],
  } as KubeObject);
  tokenFile = join(mkdtempSync(join(tmpdir(), 'vmcp-issue-24-')), 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
}, 180_000);
afterAll(async () => {
  for (const cli of sidecars) cli.kill();
  await env?.stop();
});
beforeEach(({ onTestFailed }) =>
  onTestFailed(() => {
    console.error(env.logs(20));
    for (const cli of sidecars) console.error(cli.stdout.slice(-4000), cli.stderr.slice(-2000));
  }),
);

describe('the built sidecar', () => {
  it('serves a rotated Secret within the secret refresh period plus a margin, with the resync off', async () => {
    await secretServer('rotating', 'rotation', 'before');
    const { url } = await startSidecar('rotation', [
      '--resync-period',
      '0',
      '--secret-refresh-period',
      '2s',
    ]);
    await vi.waitFor(
      async () => expect(headerValue(await served(url, 'rotating'))).toBe('before'),
      PATIENCE,
    );
    await clients.Secret.patch('key-rotating', {
      data: { value: Buffer.from('after').toString('base64') },
    });
    // The period jittered (2.2 s at most) plus one reconcile; the rest is margin for a busy machine.
    await vi.waitFor(async () => expect(headerValue(await served(url, 'rotating'))).toBe('after'), {
      timeout: 2_200 + 10_000,
      interval: 100,
    });
  });

  it("serves our backend whichever of a same-named pair is created first, and follows the other group's object", async () => {
    const { url } = await startSidecar('clash', ['--resync-period', '0']);
    await vi.waitFor(async () => expect((await fetch(`${url}/readyz`)).status).toBe(200), PATIENCE);
    // Ours first, then another team's MCPServer of the same name; and the other order.
    await entry('docs', 'clash');
    await vi.waitFor(async () => expect((await served(url, 'docs'))?.type).toBe('entry'), PATIENCE);
    await server('docs', 'other-team');
    await server('wiki', 'other-team');
    await entry('wiki', 'clash');
    await vi.waitFor(async () => expect((await served(url, 'wiki'))?.type).toBe('entry'), PATIENCE);
    await vi.waitFor(
      async () =>
        expect((await explain(url, 'docs')).decision).toMatchObject({
          action: 'upsert',
          kind: 'MCPServerEntry',
          otherGroups: [{ kind: 'MCPServer', group: 'other-team' }],
        }),
      PATIENCE,
    );
    expect((await served(url, 'docs'))?.type).toBe('entry');
    // Moved into our group it takes the name (MCPServer first); moved out or deleted, ours again.
    await clients.MCPServer.patch('docs', { spec: { groupRef: { name: 'clash' } } });
    await vi.waitFor(
      async () =>
        expect((await served(url, 'docs'))?.baseUrl).toBe('http://docs.other-team.svc:8080'),
      PATIENCE,
    );
    await clients.MCPServer.patch('docs', { spec: { groupRef: { name: 'other-team' } } });
    await vi.waitFor(async () => expect((await served(url, 'docs'))?.type).toBe('entry'), PATIENCE);
    await clients.MCPServer.delete('wiki');
    await vi.waitFor(
      async () => expect((await explain(url, 'wiki')).decision).toMatchObject({ otherGroups: [] }),
      PATIENCE,
    );
    expect((await served(url, 'wiki'))?.type).toBe('entry');
  });

  it('keeps what it serves while its permission to read Secrets is withdrawn (resync on), and a sidecar started meanwhile is ready at its bound, naming what it cannot read', async () => {
    const names = ['kept-a', 'kept-b'];
    for (const name of names) await secretServer(name, 'kept', `value-of-${name}`);
    const { cli, url } = await startSidecar('kept', ['--resync-period', '1s']);
    await vi.waitFor(async () => expect((await list(url)).backends).toHaveLength(2), PATIENCE);
    const before = await list(url);

    await grant(false);
    const samples: { version: number; backends: Backend[] }[] = [];
    await vi.waitFor(async () => {
      samples.push(await list(url));
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^vmcp_backends_kept_stale 2$/m);
    }, PATIENCE);
    // Once per name, as a warning with the reason (pino writes asynchronously: wait for it).
    await vi.waitFor(() => {
      const warnings = cli
        .logs()
        .filter((line) => line.level === 40 && line.reason === 'forbidden')
        .map((line) => `${line.backend}: ${line.msg}`);
      expect(warnings.sort()).toEqual(
        names.map(
          (name) => `${name}: read failing for now; keeping the backend as last resolved, retrying`,
        ),
      );
    }, PATIENCE);
    expect(await explain(url, 'kept-a')).toMatchObject({
      failing: { served: true, reason: 'forbidden' },
    });

    const late = await startSidecar('kept', [
      '--resync-period',
      '1s',
      '--initial-sync-timeout',
      '3s',
    ]);
    await vi.waitFor(async () => {
      const readyz = await fetch(`${late.url}/readyz`);
      expect(readyz.status).toBe(200);
      expect(await readyz.json()).toEqual({ status: 'ready', pending: names, pendingCount: 2 });
    }, PATIENCE);
    expect((await list(late.url)).backends).toEqual([]);
    // Resyncs every second meanwhile: the first sidecar serves exactly what it did.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    samples.push(await list(url));
    for (const sample of samples) expect(sample).toEqual(before);

    await grant(true);
    await vi.waitFor(async () => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^vmcp_backends_kept_stale 0$/m);
    }, PATIENCE);
    await vi.waitFor(
      async () => expect((await list(late.url)).backends.map((b) => b.id)).toEqual(names),
      PATIENCE,
    );
    expect(await (await fetch(`${late.url}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(await list(url)).toEqual(before);
  });
});
