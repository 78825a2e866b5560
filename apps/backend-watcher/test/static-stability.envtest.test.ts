/**
 * The data plane outlives the control plane: the built sidecar against a real kube-apiserver that
 * is killed for 10 s, then frozen (SIGSTOP) for 10 s, with a resync of about a second. Sampled
 * every 0.5 s, every Secret-backed backend is in every sample, unchanged, at one version.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient } from '@vmcp/kube-runtime';
import type { Backend } from '@vmcp/registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Clients, clientsFor, createSecretServer } from './support/cluster.js';
import { CliProcess } from './support/process.js';

const NS = 'default';
const GROUP = 'engineering';
const SECRET = 'outage-planted-secret-2d7e91';
const TOKEN = 'outage-api-token';
const NAMES = ['alpha', 'beta', 'gamma'];
const READ_TIMEOUT_MS = 1_000;
/** A ceiling for anything that waits on real processes: generous for a busy machine. */
const PATIENCE = { timeout: 60_000, interval: 100 };

let env: Env;
let clients: Clients;
let cli: CliProcess;
let url: string;

interface BackendList {
  version: number;
  backends: Backend[];
}

const headerValue = (backend: Backend | undefined): unknown =>
  (backend?.authConfig as { headerValue?: unknown } | undefined)?.headerValue;

async function list(): Promise<BackendList> {
  const response = await fetch(`${url}/v1/backends`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: AbortSignal.timeout(5_000),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as BackendList;
}

const secretBackend = (name: string) =>
  createSecretServer(clients, name, GROUP, `${SECRET}-${name}`);

beforeAll(async () => {
  env = await startEnv({ timeoutMs: 120_000 });
  clients = clientsFor(new KubeClient(env.kubeConfig), NS);
  for (const name of NAMES) await secretBackend(name);
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'vmcp-outage-')), 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  cli = new CliProcess([
    '--group',
    GROUP,
    '--namespace',
    NS,
    '--kubeconfig',
    env.kubeconfigPath,
    '--listen',
    '127.0.0.1:0',
    '--api-token-file',
    tokenFile,
    '--resync-period',
    '1s',
    '--read-timeout',
    `${READ_TIMEOUT_MS}ms`,
    '--grace-period',
    '2s',
  ]);
  url = (await cli.waitForLog('serving', PATIENCE.timeout)).url as string;
  await vi.waitFor(
    async () => expect((await list()).backends).toHaveLength(NAMES.length),
    PATIENCE,
  );
}, 180_000);
afterAll(async () => {
  cli?.kill();
  env?.resume();
  await env?.stop();
});
beforeEach(({ onTestFailed }) =>
  onTestFailed(() => {
    console.error(env.logs(20));
    console.error(cli.stdout.slice(-4000), cli.stderr.slice(-2000));
  }),
);

describe('the sidecar through an API server outage', () => {
  it('serves every Secret-backed backend unchanged, at one version, while the API server is down and then frozen', async () => {
    const before = await list();
    const samples: BackendList[] = [];
    const keptGauge: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await list());
        const metrics = await (await fetch(`${url}/metrics`)).text();
        keptGauge.push(Number(/^vmcp_backends_kept_stale (\d+)$/m.exec(metrics)?.[1] ?? -1));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    // Killed for 10 s: every read is refused, and the resync tries them every second.
    await env.restart({ downMs: 10_000 });
    // Let a resync succeed between the two outages.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // Frozen for 10 s: connections open, nothing answers; reads end at the read bound.
    env.pause();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    // The running sidecar explains what it keeps (its own fresh read times out meanwhile).
    const explained = (await (
      await fetch(`${url}/v1/explain/alpha`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { decision: { action: string }; failing?: { served: boolean; cause: string } };
    expect(explained.decision.action).toBe('keep-and-retry');
    expect(explained.failing).toMatchObject({
      served: true,
      cause: expect.stringContaining('could not be read'),
    });
    expect(JSON.stringify(explained)).not.toContain(SECRET);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    env.resume();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    sampling = false;
    await sampler;

    expect(samples.length).toBeGreaterThanOrEqual(30);
    for (const sample of samples) {
      expect(sample.version).toBe(before.version);
      expect(sample.backends).toEqual(before.backends);
    }
    // The kept backends were counted while reads failed, and the logs hold no secret.
    expect(Math.max(...keptGauge)).toBe(NAMES.length);
    expect(cli.stdout).not.toContain(SECRET);
    const keptLines = cli
      .logs()
      .filter(
        (line) =>
          line.msg === 'read failing for now; keeping the backend as last resolved, retrying',
      );
    for (const name of NAMES) {
      const lines = keptLines.filter((line) => line.backend === name);
      // Once per outage at most, not once per retry (a resync a second, for 20 s).
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(2);
    }
  });

  it('after the outage, serves a new workload within the read bound plus a few seconds', async () => {
    await vi.waitFor(async () => expect((await fetch(`${url}/readyz`)).status).toBe(200), PATIENCE);
    await secretBackend('delta');
    // The read bound plus a few seconds of watch and reconcile; wider on a busy machine.
    await vi.waitFor(
      async () => expect((await list()).backends.map((backend) => backend.id)).toContain('delta'),
      { timeout: READ_TIMEOUT_MS + 15_000, interval: 100 },
    );
  });

  it('picks up a rotated Secret through the resync (Secrets are not watched)', async () => {
    await clients.Secret.patch('key-alpha', {
      data: { value: Buffer.from('rotated-value').toString('base64') },
    });
    await vi.waitFor(
      async () =>
        expect(headerValue((await list()).backends.find((b) => b.id === 'alpha'))).toBe(
          'rotated-value',
        ),
      PATIENCE,
    );
  });
});
