import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { RESOURCES } from '@vmcp/reconciler';
import type { Backend } from '@vmcp/registry';
import { eventually } from '@vmcp/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliProcess, runCli, SIDECAR_READY_TIMEOUT_MS } from './support/process.js';

const NS = 'default';
const GROUP = 'engineering';
const API = 'toolhive.stacklok.dev/v1beta1';
const SECRET = 'e2e-planted-secret-5b1d0c7e';
const TOKEN = 'e2e-api-token';

let env: Env;
let clients: Record<keyof typeof RESOURCES, ResourceClient>;
let tokenFile: string;
const processes: CliProcess[] = [];

beforeAll(async () => {
  env = await startEnv({ watchCache: false });
  const client = new KubeClient(env.kubeConfig);
  clients = Object.fromEntries(
    Object.entries(RESOURCES).map(([kind, resource]) => [
      kind,
      new ResourceClient(client, resource, NS),
    ]),
  ) as typeof clients;
  tokenFile = join(mkdtempSync(join(tmpdir(), 'vmcp-e2e-')), 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
});
afterAll(async () => {
  for (const p of processes) p.kill();
  await env?.stop();
});
beforeEach(({ onTestFailed }) =>
  onTestFailed(() => {
    console.error(env.logs(20));
    for (const p of processes) console.error(p.stdout.slice(-3000), p.stderr.slice(-2000));
  }),
);

/** The group, namespace and kubeconfig every command here is given. */
const clusterArgs = (): string[] => [
  '--group',
  GROUP,
  '--namespace',
  NS,
  '--kubeconfig',
  env.kubeconfigPath,
];

function startCli(extra: string[] = [], processEnv: Record<string, string> = {}): CliProcess {
  const cli = new CliProcess(
    [
      ...clusterArgs(),
      '--listen',
      '127.0.0.1:0',
      '--api-token-file',
      tokenFile,
      '--grace-period',
      '5s',
      ...extra,
    ],
    processEnv,
  );
  processes.push(cli);
  return cli;
}

async function urlOf(cli: CliProcess): Promise<string> {
  return (await cli.waitForLog('serving')).url as string;
}

/** Waits until the sidecar at `url` is ready (`/readyz` 200). */
async function readyz(url: string): Promise<void> {
  await eventually(
    async () => expect((await fetch(`${url}/readyz`)).status).toBe(200),
    SIDECAR_READY_TIMEOUT_MS,
  );
}

interface BackendList {
  version: number;
  backends: Backend[];
}

const server = (name: string, group: string, extra: object = {}) =>
  clients.MCPServer.create({
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name },
    spec: {
      image: 'ghcr.io/example/mcp:1',
      transport: 'streamable-http',
      groupRef: { name: group },
      ...extra,
    },
  } as KubeObject);
const setUrl = (name: string, url: string) =>
  clients.MCPServer.patchStatus(name, { status: { phase: 'Ready', url } });

describe('vmcp-backend-watcher against a real API server', () => {
  it('answers /readyz 503 until the caches synced, then 200', async () => {
    env.pause();
    let cli: CliProcess;
    try {
      cli = startCli();
      const url = await urlOf(cli);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
    } finally {
      env.resume();
    }
    const url = await urlOf(cli);
    await readyz(url);
    cli.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('follows creates, status URLs, group moves, auth changes and deletes, version by version', async () => {
    const cli = startCli();
    const url = await urlOf(cli);
    await readyz(url);
    const list = async (token = false): Promise<BackendList> =>
      (await (
        await fetch(`${url}/v1/backends`, {
          headers: token ? { authorization: `Bearer ${TOKEN}` } : {},
        })
      ).json()) as BackendList;
    const waitFor = (check: (l: BackendList) => void) =>
      eventually(async () => {
        const l = await list(true);
        check(l);
        return l;
      });
    const start = (await list()).version;

    // Created without a URL: not a backend yet.
    await server('github', GROUP);
    await server('elsewhere', 'other-group');
    await setUrl('elsewhere', 'http://elsewhere.default.svc:8080');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await list()).backends).toEqual([]);

    // The operator sets the URL: it appears, one version step.
    await setUrl('github', 'http://github.default.svc:8080');
    let now = await waitFor((l) => expect(l.backends.map((b) => b.id)).toEqual(['github']));
    expect(now.version).toBe(start + 1);
    expect(now.backends[0]).toMatchObject({
      id: 'github',
      name: 'github',
      baseUrl: 'http://github.default.svc:8080',
      transportType: 'streamable-http',
      healthStatus: 'healthy',
    });

    // A URL change: updated in place.
    await setUrl('github', 'http://github-v2.default.svc:8080');
    now = await waitFor((l) =>
      expect(l.backends[0]?.baseUrl).toBe('http://github-v2.default.svc:8080'),
    );
    expect(now.version).toBe(start + 2);

    // Group moves, both ways.
    await clients.MCPServer.patch('github', { spec: { groupRef: { name: 'other-group' } } });
    now = await waitFor((l) => expect(l.backends).toEqual([]));
    await clients.MCPServer.patch('elsewhere', { spec: { groupRef: { name: GROUP } } });
    now = await waitFor((l) => expect(l.backends.map((b) => b.id)).toEqual(['elsewhere']));
    expect(now.version).toBe(start + 4);

    // Auth: a workload whose auth config does not exist yet is not served; it appears with it.
    await clients.Secret.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'api-key' },
      data: { key: Buffer.from(SECRET).toString('base64') },
    } as KubeObject);
    await server('authed', GROUP, { externalAuthConfigRef: { name: 'header-auth' } });
    await setUrl('authed', 'http://authed.default.svc:8080');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await list()).backends.map((b) => b.id)).toEqual(['elsewhere']);
    await clients.MCPExternalAuthConfig.create({
      apiVersion: API,
      kind: 'MCPExternalAuthConfig',
      metadata: { name: 'header-auth' },
      spec: {
        type: 'headerInjection',
        headerInjection: {
          headerName: 'X-Api-Key',
          valueSecretRef: { name: 'api-key', key: 'key' },
        },
      },
    } as KubeObject);
    now = await waitFor((l) =>
      expect(l.backends.find((b) => b.id === 'authed')?.authConfig).toEqual({
        type: 'header_injection',
        headerName: 'X-Api-Key',
        headerValue: SECRET,
      }),
    );

    // Token-less responses never carry the Secret's bytes.
    for (const path of ['/v1/backends', '/v1/backends/authed', '/metrics']) {
      const body = await (await fetch(`${url}${path}`)).text();
      expect(body).toContain(path === '/metrics' ? 'vmcp_registry_backends 2' : 'authed');
      expect(body).not.toContain(SECRET);
    }

    // An auth config change is followed; its deletion removes the backend.
    await clients.MCPExternalAuthConfig.patch('header-auth', {
      spec: { headerInjection: { headerName: 'X-Other-Key' } },
    });
    await waitFor((l) =>
      expect(l.backends.find((b) => b.id === 'authed')?.authConfig).toMatchObject({
        headerName: 'X-Other-Key',
      }),
    );
    await clients.MCPExternalAuthConfig.delete('header-auth');
    now = await waitFor((l) => expect(l.backends.map((b) => b.id)).toEqual(['elsewhere']));
    const beforeDelete = now.version;

    // Deletes.
    await clients.MCPServer.delete('elsewhere');
    now = await waitFor((l) => expect(l.backends).toEqual([]));
    expect(now.version).toBe(beforeDelete + 1);

    // The log never carried the secret either.
    expect(cli.stdout).not.toContain(SECRET);
    expect(cli.stdout).not.toContain(TOKEN);

    const started = Date.now();
    cli.kill('SIGTERM');
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(cli.logs().map((l) => l.msg)).toContain('stopped');
    // How client-node was loaded is said once, at start.
    expect(cli.logs().filter((l) => 'load' in l)).toEqual([
      expect.objectContaining({ load: 'slim', level: 30 }),
    ]);
    await clients.MCPServer.delete('github');
    await clients.MCPServer.delete('authed');
    await clients.Secret.delete('api-key');
  });

  it('explains why a name is or is not a backend, with secrets redacted', async () => {
    await clients.Secret.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'explain-key' },
      data: { key: Buffer.from(SECRET).toString('base64') },
    } as KubeObject);
    await clients.MCPExternalAuthConfig.create({
      apiVersion: API,
      kind: 'MCPExternalAuthConfig',
      metadata: { name: 'explain-auth' },
      spec: {
        type: 'headerInjection',
        headerInjection: {
          headerName: 'X-Api-Key',
          valueSecretRef: { name: 'explain-key', key: 'key' },
        },
      },
    } as KubeObject);
    await server('explained', GROUP, { externalAuthConfigRef: { name: 'explain-auth' } });
    await server('no-url', GROUP);
    await server('foreign', 'other-group');
    await server('missing-auth', GROUP, { externalAuthConfigRef: { name: 'absent' } });
    await setUrl('explained', 'http://explained.default.svc:8080');
    await setUrl('missing-auth', 'http://missing-auth.default.svc:8080');
    const explain = (name: string) => runCli(['explain', name, ...clusterArgs()]);

    await clients.MCPServerEntry.create({
      apiVersion: API,
      kind: 'MCPServerEntry',
      metadata: { name: 'explained' },
      spec: {
        remoteUrl: 'https://explained.example.com/mcp',
        transport: 'streamable-http',
        groupRef: { name: GROUP },
      },
    } as KubeObject);
    const yes = await explain('explained');
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('MCPServer default/explained: a backend of group "engineering"');
    expect(yes.stdout).toMatch(
      /shadowed: MCPServerEntry named "explained" is ignored; MCPServer takes precedence/,
    );
    expect(yes.stdout).toContain('"headerValue": "[REDACTED]"');
    expect(yes.stdout + yes.stderr).not.toContain(SECRET);

    const cases: [string, RegExp][] = [
      ['nothing-here', /not a backend: no MCPServer, MCPRemoteProxy or MCPServerEntry/],
      ['no-url', /not a backend \(no-url\)/],
      ['foreign', /belongs to group "other-group"/],
      ['missing-auth', /not a backend \(auth-unresolved\).*absent/],
    ];
    for (const [name, expected] of cases) {
      const result = await explain(name);
      expect(result.stdout).toMatch(expected);
      expect(result.code).toBe(3);
    }
  });

  it("runs without loading client-node's generated API models", async () => {
    // A preloaded module counts every client-node file the process loads and reports at exit.
    const probe = `
      import { registerHooks } from 'node:module';
      const loaded = { models: 0, clientNode: 0 };
      registerHooks({ load(url, context, next) {
        if (url.includes('/@kubernetes/client-node/dist/')) loaded.clientNode++;
        if (url.includes('/@kubernetes/client-node/dist/gen/models/')) loaded.models++;
        return next(url, context);
      } });
      process.on('exit', () => process.stderr.write('probe ' + JSON.stringify(loaded) + '\\n'));
    `;
    const cli = startCli([], {
      NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(probe)}`,
    });
    const url = await urlOf(cli);
    await readyz(url);
    cli.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
    const report = /probe (\{.*\})/.exec(cli.stderr)?.[1];
    expect(report, cli.stderr).toBeDefined();
    const loaded = JSON.parse(report as string) as { models: number; clientNode: number };
    expect(loaded.clientNode).toBeGreaterThan(5);
    expect(loaded.models).toBe(0);
  });

  it('exits non-zero with one line when the address is in use', async () => {
    const first = startCli();
    const url = await urlOf(first);
    const second = await runCli([...clusterArgs(), '--listen', url.replace('http://', '')]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /^vmcp-backend-watcher: cannot listen on 127\.0\.0\.1:\d+: the address is already in use\n$/,
    );
    first.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });
});
