import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { eventually } from '@vmcp/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiRequest, type Env, startEnv } from '../src/index.js';

const servers = '/apis/toolhive.stacklok.dev/v1beta1/namespaces/default/mcpservers';
const server = (name: string) => ({
  apiVersion: 'toolhive.stacklok.dev/v1beta1',
  kind: 'MCPServer',
  metadata: { name, namespace: 'default' },
  spec: { image: 'ghcr.io/example/fetch:1', transport: 'streamable-http' },
});

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed orphan stays a zombie until whoever adopted it reaps it: dead all the same.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

describe('envtest', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv();
  });
  afterAll(async () => {
    await env?.stop();
  });
  // The server logs go with a failure: they usually say why.
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => console.error(env.logs(40)));
  });

  it('answers as a 1.20 API server', async () => {
    const { status, body } = await apiRequest(env.connection, 'GET', '/version');
    expect(status).toBe(200);
    expect(body).toMatchObject({ gitVersion: 'v1.20.2', major: '1', minor: '20' });
  });

  it('serves the five ToolHive kinds', async () => {
    for (const plural of [
      'mcpservers',
      'mcpremoteproxies',
      'mcpserverentries',
      'mcpexternalauthconfigs',
      'mcpgroups',
    ]) {
      const { status } = await apiRequest(
        env.connection,
        'GET',
        `/apis/toolhive.stacklok.dev/v1beta1/namespaces/default/${plural}`,
      );
      expect(status, plural).toBe(200);
    }
    const created = await apiRequest(env.connection, 'POST', servers, server('created'));
    expect(created.status).toBe(201);
    const read = await apiRequest(env.connection, 'GET', `${servers}/created`);
    expect(read.body).toMatchObject({ spec: { image: 'ghcr.io/example/fetch:1' } });
  });

  it('lets a watch see a change', async () => {
    const list = await apiRequest(env.connection, 'GET', servers);
    const rv = (list.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const controller = new AbortController();
    const seen = new Promise<string>((resolve, reject) => {
      import('node:https').then(({ request }) => {
        const req = request(
          new URL(`${servers}?watch=true&resourceVersion=${rv}`, env.server),
          {
            ca: env.connection.ca,
            headers: { authorization: `Bearer ${env.connection.token}` },
            signal: controller.signal,
          },
          (res) => {
            res.on('data', (chunk: Buffer) => {
              const line = chunk.toString().split('\n')[0] ?? '';
              if (line) resolve(JSON.parse(line).type);
            });
          },
        );
        req.on('error', (error) => (controller.signal.aborted ? undefined : reject(error)));
        req.end();
      });
    });
    await apiRequest(env.connection, 'POST', servers, server('watched'));
    expect(await seen).toBe('ADDED');
    controller.abort();
  });

  it('hangs requests while paused and serves them after resume', async () => {
    env.pause();
    try {
      // pause() returns once every thread stopped, not merely once SIGSTOP was sent.
      const tasks = readdirSync(`/proc/${env.apiServerPid}/task`);
      const states = tasks.map((task) => {
        const stat = readFileSync(`/proc/${env.apiServerPid}/task/${task}/stat`, 'utf8');
        return stat.charAt(stat.lastIndexOf(')') + 2);
      });
      expect(states.length).toBeGreaterThan(1);
      expect(states.filter((state) => state !== 'T')).toEqual([]);
      await expect(
        apiRequest(env.connection, 'GET', '/version', undefined, {
          signal: AbortSignal.timeout(1500),
        }),
      ).rejects.toThrow();
    } finally {
      env.resume();
    }
    const { status } = await apiRequest(env.connection, 'GET', '/version');
    expect(status).toBe(200);
  });

  it('survives a restart with the same etcd', async () => {
    await apiRequest(env.connection, 'POST', servers, server('before-restart'));
    const pid = env.apiServerPid;
    await env.restart();
    expect(env.apiServerPid).not.toBe(pid);
    const { status } = await apiRequest(env.connection, 'GET', `${servers}/before-restart`);
    expect(status).toBe(200);
  });

  it('stays down for downMs on a restart: its port refuses connections meanwhile', async () => {
    const restarting = env.restart({ downMs: 1_500 });
    await eventually(
      async () => {
        const error = await apiRequest(env.connection, 'GET', '/version').then(
          () => undefined,
          (e: unknown) => e as { code?: string },
        );
        return error?.code === 'ECONNREFUSED';
      },
      { what: 'a refused connection while the API server is down' },
    );
    await restarting;
    const { status } = await apiRequest(env.connection, 'GET', `${servers}/before-restart`);
    expect(status).toBe(200);
  });

  it.each([-1, 600_001, Number.NaN])(
    'refuses a restart with downMs %d, and stays up',
    async (downMs) => {
      const pid = env.apiServerPid;
      await expect(env.restart({ downMs })).rejects.toThrow(
        `downMs ${downMs} is not a number of milliseconds from 0 to 600000`,
      );
      expect(env.apiServerPid).toBe(pid);
      expect((await apiRequest(env.connection, 'GET', '/version')).status).toBe(200);
    },
  );

  it('gives the non-admin user nothing without RBAC', async () => {
    const { status } = await apiRequest(
      { ...env.connection, token: env.nonAdmin.token },
      'GET',
      servers,
    );
    expect(status).toBe(403);
  });
});

/** Opens a watch and resolves with its HTTP status and whole body (the server closes it). */
async function watchOnce(env: Env, resourceVersion: string) {
  const { request } = await import('node:https');
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      new URL(
        `${servers}?watch=true&resourceVersion=${resourceVersion}&timeoutSeconds=5`,
        env.server,
      ),
      { ca: env.connection.ca, headers: { authorization: `Bearer ${env.connection.token}` } },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('envtest compaction', () => {
  it('makes a watch from before a compaction fail with 410 Gone', async () => {
    const env = await startEnv({ watchCache: false });
    try {
      const first = await apiRequest(env.connection, 'POST', servers, server('old-1'));
      const oldRv = (first.body as { metadata: { resourceVersion: string } }).metadata
        .resourceVersion;
      // Two later writes: a watch from oldRv needs oldRv+1, which compaction at the current
      // revision (oldRv+2) removes.
      await apiRequest(env.connection, 'POST', servers, server('old-2'));
      await apiRequest(env.connection, 'POST', servers, server('old-3'));
      // Before compaction the old version still replays history.
      expect((await watchOnce(env, oldRv)).body).toContain('"type":"ADDED"');
      await env.compact();
      const after = await watchOnce(env, oldRv);
      const gone = after.status === 410 || /"code":410/.test(after.body);
      expect(gone, `status ${after.status} body ${after.body.slice(0, 300)}`).toBe(true);
    } finally {
      await env.stop();
    }
  });
});

describe('envtest lifecycle', () => {
  it('stops on await using', async () => {
    let pid: number | undefined;
    {
      await using env = await startEnv({ crds: 'none' });
      pid = env.apiServerPid;
      expect(alive(pid)).toBe(true);
    }
    expect(alive(pid)).toBe(false);
  });

  it('leaves no process behind when the process that started it is killed', async () => {
    // SIGKILL runs no exit hook: only the kernel (setpriv's parent-death signal) can clean up.
    const script = `
      const { startEnv } = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)});
      const env = await startEnv({ crds: 'none' });
      console.log(JSON.stringify([env.apiServerPid, env.etcdPid, env.kubeconfigPath]));
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--no-warnings', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const [apiServerPid, etcdPid, kubeconfigPath] = JSON.parse(line) as [number, number, string];
    const pids = [apiServerPid, etcdPid];
    try {
      expect(pids.filter(alive)).toHaveLength(2);
      child.kill('SIGKILL');
      await expect.poll(() => pids.filter(alive), { timeout: 10_000 }).toEqual([]);
    } finally {
      for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
      // The killed process could not remove its folder (etcd's data, ~120 MB): this test does.
      const dir = dirname(kubeconfigPath);
      if (basename(dir).startsWith('vmcp-envtest-')) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs two environments in parallel and leaves no process after stop', async () => {
    const [a, b] = await Promise.all([startEnv({ crds: 'none' }), startEnv({ crds: 'none' })]);
    expect(a.server).not.toBe(b.server);
    const pids = [a.apiServerPid, a.etcdPid, b.apiServerPid, b.etcdPid];
    for (const pid of pids) expect(alive(pid)).toBe(true);
    await Promise.all([a.stop(), b.stop()]);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
