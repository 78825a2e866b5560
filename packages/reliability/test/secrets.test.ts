import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import {
  createLogger,
  formatExplanation,
  loadVmcpConfig,
  type Sidecar,
  startSidecar,
} from '@vmcp/backend-watcher';
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import type { KubeObject } from '@vmcp/kube-runtime';
import { ConfigMapMount, eventually } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterArgs, SIDECAR_CLI } from '../src/fixtures.js';

const run = promisify(execFile);
const API = 'toolhive.stacklok.dev/v1beta1';
const TOKEN = 'api-token-for-the-secrets-test';

// Unique bytes per secret: if any of them shows up anywhere it must not, the test names it.
const planted = {
  header: `PLANTED-header-${randomBytes(8).toString('hex')}`,
  exchange: `PLANTED-exchange-${randomBytes(8).toString('hex')}`,
  idp: `PLANTED-idp-${randomBytes(8).toString('hex')}`,
  target: `PLANTED-target-${randomBytes(8).toString('hex')}`,
  unused: `PLANTED-unused-${randomBytes(8).toString('hex')}`,
  // Values of the vMCP config file (--config): secret material exactly as Secret values are.
  fileHeader: `PLANTED-file-header-${randomBytes(8).toString('hex')}`,
  fileExchange: `PLANTED-file-exchange-${randomBytes(8).toString('hex')}`,
  fileEnv: `PLANTED-file-env-${randomBytes(8).toString('hex')}`,
  fileBroken: `PLANTED-file-broken-${randomBytes(8).toString('hex')}`,
};
const secretValues = Object.values(planted);
/** The variable the config file's default strategy reads its header value from. */
const DEFAULT_VARIABLE = 'VMCP_SECRETS_TEST_DEFAULT';

/** The vMCP config: discovered auth first, then inline values and one from the environment. */
const vmcpConfig = `groupRef: g
outgoingAuth:
  source: discovered
  default:
    type: header_injection
    headerInjection:
      headerName: X-Default
      headerValueEnv: ${DEFAULT_VARIABLE}
  backends:
    with-file-header:
      type: header_injection
      headerInjection:
        headerName: X-File
        headerValue: ${planted.fileHeader}
    with-file-exchange:
      type: token_exchange
      tokenExchange:
        tokenUrl: https://sso/token
        clientId: vmcp
        clientSecret: ${planted.fileExchange}
`;
let configDir: string;
let mount: ConfigMapMount;
let fake: FakeApiServer;
let sidecar: Sidecar;
const logLines: string[] = [];

const secret = (name: string, data: Record<string, string>) =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'default' },
    stringData: data,
  }) as KubeObject;
const auth = (name: string, spec: object) =>
  ({
    apiVersion: API,
    kind: 'MCPExternalAuthConfig',
    metadata: { name, namespace: 'default' },
    spec,
  }) as KubeObject;
const server = (name: string, authName?: string) =>
  ({
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name, namespace: 'default' },
    spec: {
      image: 'example/mcp:1',
      transport: 'sse',
      groupRef: { name: 'g' },
      ...(authName === undefined ? {} : { externalAuthConfigRef: { name: authName } }),
    },
    status: { phase: 'Ready', url: `http://${name}:8080` },
  }) as KubeObject;

beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  fake.load([
    secret('header-secret', { value: planted.header, other: planted.unused }),
    secret('exchange-secret', { client: planted.exchange }),
    secret('xaa-secret', { idp: planted.idp, target: planted.target }),
    auth('header', {
      type: 'headerInjection',
      headerInjection: {
        headerName: 'X-Key',
        valueSecretRef: { name: 'header-secret', key: 'value' },
      },
    }),
    auth('exchange', {
      type: 'tokenExchange',
      tokenExchange: {
        tokenUrl: 'https://sso/token',
        audience: 'a',
        clientId: 'c',
        clientSecretRef: { name: 'exchange-secret', key: 'client' },
      },
    }),
    auth('xaa', {
      type: 'xaa',
      xaa: {
        idpTokenUrl: 'https://idp/token',
        targetTokenUrl: 'https://target/token',
        targetAudience: 't',
        idpClientSecretRef: { name: 'xaa-secret', key: 'idp' },
        targetClientSecretRef: { name: 'xaa-secret', key: 'target' },
      },
    }),
    // Broken references: their errors name Secrets and keys, never values.
    auth('wrong-key', {
      type: 'headerInjection',
      headerInjection: { headerName: 'X', valueSecretRef: { name: 'header-secret', key: 'nope' } },
    }),
    server('with-header', 'header'),
    server('with-exchange', 'exchange'),
    server('with-xaa', 'xaa'),
    server('with-wrong-key', 'wrong-key'),
    server('with-file-header'),
    server('with-file-exchange'),
    server('with-default'),
  ]);
  process.env[DEFAULT_VARIABLE] = planted.fileEnv;
  configDir = mkdtempSync(join(tmpdir(), 'vmcp-secrets-config-'));
  mount = new ConfigMapMount(configDir);
  mount.write({ 'config.yaml': vmcpConfig });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  sidecar = await startSidecar({
    kubeConfig: fake.kubeConfig,
    namespace: 'default',
    groupRef: 'g',
    listen: '127.0.0.1:0',
    apiToken: TOKEN,
    logger: createLogger('trace', sink),
    vmcpConfig: loadVmcpConfig(mount.path('config.yaml')),
    configReloadDebounceMs: 50,
  });
  expect(await sidecar.watcher.waitForRegistrySync({ timeoutMs: 20_000 })).toBe(true);
});
afterAll(async () => {
  await sidecar?.close();
  await fake?.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
  delete process.env[DEFAULT_VARIABLE];
});

/** The backends served: three with Secret-backed auth, three with auth from the config file. */
const SERVED = [
  'with-header',
  'with-exchange',
  'with-xaa',
  'with-file-header',
  'with-file-exchange',
  'with-default',
];

function leaks(text: string): string[] {
  return secretValues.filter((value) => text.includes(value));
}

describe('secret values never leave the sidecar without the token', () => {
  it('serves them to the token holder (so that the searches below can fail)', async () => {
    const body = await (
      await fetch(`${sidecar.url}/v1/backends`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(leaks(body).sort()).toEqual(
      [
        planted.exchange,
        planted.header,
        planted.idp,
        planted.target,
        planted.fileHeader,
        planted.fileExchange,
        planted.fileEnv,
      ].sort(),
    );
  });

  it('not in token-less responses: list, items, long-poll, events', async () => {
    const bodies: string[] = [];
    // fetch asks for gzip and decodes it; identity is asked for too, so both codings are searched.
    bodies.push(await (await fetch(`${sidecar.url}/v1/backends`)).text());
    const identity = { headers: { 'accept-encoding': 'identity' } };
    bodies.push(await (await fetch(`${sidecar.url}/v1/backends`, identity)).text());
    for (const id of [...SERVED, 'with-wrong-key']) {
      bodies.push(await (await fetch(`${sidecar.url}/v1/backends/${id}`)).text());
    }
    bodies.push(await (await fetch(`${sidecar.url}/v1/backends?watch=0&timeoutSeconds=1`)).text());
    const events = await fetch(`${sidecar.url}/v1/events`);
    const reader = events.body?.getReader();
    const first = await reader?.read();
    await reader?.cancel();
    bodies.push(Buffer.from(first?.value ?? new Uint8Array()).toString());
    expect(bodies.join('\n')).toContain('[REDACTED]');
    expect(leaks(bodies.join('\n'))).toEqual([]);
  });

  it('not in a response to a wrong token', async () => {
    const response = await fetch(`${sidecar.url}/v1/backends`, {
      headers: { authorization: `Bearer ${planted.header}` },
    });
    expect(response.status).toBe(401);
    expect(leaks(await response.text())).toEqual([]);
  });

  it('not in metrics', async () => {
    const text = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(text).toContain(`vmcp_registry_backends ${SERVED.length}`);
    expect(text).toContain('vmcp_config_valid 1');
    expect(leaks(text)).toEqual([]);
  });

  it('not in explain output, in process or from the CLI, including the broken reference', async () => {
    const outputs: string[] = [];
    for (const id of [...SERVED, 'with-wrong-key']) {
      const explanation = await sidecar.watcher.explain(id);
      outputs.push(JSON.stringify(explanation));
      const served = await fetch(`${sidecar.url}/v1/explain/${id}`);
      outputs.push(await served.text());
      // The CLI with the same config file (and the variable in its environment).
      const cli = await run(process.execPath, [
        SIDECAR_CLI,
        'explain',
        id,
        ...clusterArgs(fake.kubeconfigPath),
        '--config',
        mount.path('config.yaml'),
      ]).catch((error: { stdout: string; stderr: string }) => error);
      outputs.push(cli.stdout, cli.stderr);
    }
    expect(outputs.join('\n')).toContain('has no key "nope"');
    // The file's strategies were applied (so that the search could find their values).
    expect(outputs.join('\n')).toContain('X-File');
    expect(outputs.join('\n')).toContain('X-Default');
    expect(leaks(outputs.join('\n'))).toEqual([]);
    expect(formatExplanation).toBeTypeOf('function');
  });

  it('not in /readyz, metrics or logs when a reload does not read well, nor in a CLI error', async () => {
    // A syntax error on the line of a secret: YAML's own message would quote that line.
    mount.write({
      'config.yaml': `${vmcpConfig}    broken:\n      headerValue: "${planted.fileBroken}\n`,
    });
    await eventually(async () =>
      expect(await (await fetch(`${sidecar.url}/metrics`)).text()).toContain('vmcp_config_valid 0'),
    );
    const readyz = await (await fetch(`${sidecar.url}/readyz`)).text();
    expect(readyz).toContain('is not valid YAML or JSON');
    expect(leaks(readyz)).toEqual([]);
    expect(leaks(await (await fetch(`${sidecar.url}/metrics`)).text())).toEqual([]);
    const cli = await run(process.execPath, [
      SIDECAR_CLI,
      '--config',
      mount.path('config.yaml'),
      '--kubeconfig',
      fake.kubeconfigPath,
    ]).catch((error: { stdout: string; stderr: string; code: number }) => error);
    expect(cli.stderr).toContain('is not valid YAML or JSON');
    expect(leaks(cli.stdout + cli.stderr)).toEqual([]);
    // The last good config stays in force.
    expect(sidecar.registry.get('with-file-header')?.authConfig).toMatchObject({
      headerValue: planted.fileHeader,
    });
    mount.write({ 'config.yaml': vmcpConfig });
  });

  it('not in any log line, at trace level, after syncs, resolutions and failures', async () => {
    // One more round of activity: a failed read (403) and a rotated Secret.
    fake.load([server('late', 'header')]);
    fake.faults.failNext(2, { status: 403, reason: 'Forbidden' });
    for (let i = 0; i < 100 && !sidecar.registry.get('late'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(sidecar.registry.get('late')).toBeDefined();
    const text = logLines.join('');
    expect(logLines.length).toBeGreaterThan(10);
    // Lines of several levels were written (the logger was at trace, so nothing was filtered).
    expect(text).toContain('"level":30');
    expect(text).toMatch(/"level":(40|50)/);
    expect(leaks(text)).toEqual([]);
  });
});
