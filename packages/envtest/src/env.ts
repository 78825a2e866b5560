import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { stringify } from 'yaml';
import { installCrds } from './crds.js';
import { type ApiConnection, apiRequest } from './http.js';

/** The Debian source package the cached kube-apiserver is built from. */
export const KUBERNETES_SOURCE_VERSION = '1.20.5+really1.20.2';

/** Where `pnpm envtest:setup` caches the binary, unless `VMCP_ENVTEST_APISERVER` says otherwise. */
export function apiServerBinary(): string {
  return (
    process.env.VMCP_ENVTEST_APISERVER ??
    join(
      process.env.VMCP_ENVTEST_CACHE ?? join(homedir(), '.cache', 'vmcp-envtest'),
      KUBERNETES_SOURCE_VERSION,
      'kube-apiserver',
    )
  );
}

/** etcd from Debian's etcd-server, unless `VMCP_ENVTEST_ETCD` says otherwise. */
export function etcdBinary(): string {
  return process.env.VMCP_ENVTEST_ETCD ?? '/usr/bin/etcd';
}

/**
 * The default ceiling of {@link startEnv} and {@link Env.restart}. Measured on 2 cores, a start
 * (etcd, kube-apiserver, the five CRDs Established and served) took 12 to 31 s beside other test
 * suites and up to 39 s with two busy loops added, a restart up to 21 s: more than four times the
 * slowest start, it is reached only by a start that hangs.
 */
const START_TIMEOUT_MS = 180_000;

/** A user of the test API server with its own kubeconfig. */
export interface EnvUser {
  username: string;
  token: string;
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
}

/** Options of {@link startEnv}. */
export interface StartEnvOptions {
  /** CRDs to install: the ToolHive ones (default), none, or manifest paths. */
  crds?: 'toolhive' | 'none' | readonly string[];
  /**
   * How long startup, and each {@link Env.restart}, may take before it fails naming the step
   * that did not finish. Default {@link START_TIMEOUT_MS}.
   */
  timeoutMs?: number;
  /**
   * The API server's watch cache (default on, as in real clusters). With it, a watch from an old
   * resourceVersion is served from memory until the version falls out of the cache window, so
   * etcd compaction alone does not produce 410 Gone; with `false`, watches go to etcd and
   * {@link Env.compact} makes every older watch fail with 410 at once.
   */
  watchCache?: boolean;
}

/** A running kube-apiserver and etcd, with fault controls for tests. */
export interface Env {
  /** `https://127.0.0.1:PORT` */
  readonly server: string;
  readonly etcdUrl: string;
  /** The admin (`system:masters`). */
  readonly kubeConfig: KubeConfig;
  readonly kubeconfigPath: string;
  readonly admin: EnvUser;
  /** A user with no permissions until RBAC grants some (for least-privilege tests). */
  readonly nonAdmin: EnvUser;
  readonly connection: ApiConnection;
  readonly apiServerPid: number | undefined;
  readonly etcdPid: number | undefined;
  /**
   * SIGSTOP the API server: connections stay open and silent (a stall). Returns once every
   * thread of it has stopped, so no request made after it is answered before `resume`.
   */
  pause(): void;
  /** SIGCONT after {@link Env.pause}. */
  resume(): void;
  /**
   * Restarts the API server on the same port and etcd (every connection drops). With `downMs`,
   * it stays down that long first (its port refuses connections, as a crashed API server's),
   * then starts again; resolves once it is ready.
   */
  restart(options?: { downMs?: number }): Promise<void>;
  /**
   * Compacts etcd up to its current revision (the newest write survives): watches that reach
   * etcd from a resourceVersion older than the newest write's predecessor get 410 Gone (all of them with `watchCache: false`; with the watch cache, once
   * the version is out of its window or after a restart). Resolves with the revision.
   */
  compact(): Promise<number>;
  /** The last lines of the API server and etcd logs. */
  logs(lines?: number): string;
  /** Stops both processes and removes the temp directory. Safe to call twice. */
  stop(): Promise<void>;
  /** The same as {@link Env.stop}, for `await using env = await startEnv()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const killAll = () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
}

/**
 * Waits until every thread of `pid` is stopped. kill(2) returns before a SIGSTOP has stopped
 * the whole thread group: one thread takes the signal and stops the others when it next runs,
 * and on a busy machine other threads went on answering requests for milliseconds meanwhile.
 * Synchronous, like `pause()`; it sleeps 1 ms between looks, and gives up after 5 s.
 */
function waitStopped(pid: number): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 5_000;
  for (;;) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return; // the process is gone: nothing to wait for
    }
    let running = 0;
    for (const task of tasks) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      } catch {
        continue; // the thread ended meanwhile
      }
      // "tid (comm) S ...": the state follows the last parenthesis (comm may hold any).
      const state = stat.charAt(stat.lastIndexOf(')') + 2);
      if (!['T', 't', 'Z', 'X'].includes(state)) running++;
    }
    if (running === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`the API server (pid ${pid}) did not stop within 5 s of SIGSTOP`);
    }
    Atomics.wait(sleeper, 0, 0, 1);
  }
}

/**
 * util-linux's setpriv, when the machine has it (Debian always does): launched through
 * `setpriv --pdeathsig KILL`, etcd and kube-apiserver are killed by the kernel when this process
 * dies, even by SIGKILL (a test runner's timeout), where no exit hook of ours runs.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

function launch(binary: string, args: string[], logPath: string): ChildProcess {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = SETPRIV
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function kubeconfigYaml(server: string, ca: string, user: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'envtest',
        cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'envtest', context: { cluster: 'envtest', user, namespace: 'default' } }],
    'current-context': 'envtest',
  });
}

/**
 * Starts etcd and kube-apiserver on free loopback ports with a fresh data directory, installs the
 * CRDs, and resolves once the API server is ready. Fails, naming the missing step, when the
 * binaries are absent (`pnpm envtest:setup` builds them). Processes never outlive the test
 * process: `stop()`, and a kill on exit, SIGINT and SIGTERM.
 *
 * @example
 * const env = await startEnv();
 * try { ... new KubeConfig() ... env.kubeconfigPath ... } finally { await env.stop(); }
 */
export async function startEnv(options: StartEnvOptions = {}): Promise<Env> {
  const apiServer = apiServerBinary();
  const etcd = etcdBinary();
  for (const [what, path] of [
    ['kube-apiserver', apiServer],
    ['etcd', etcd],
  ] as const) {
    if (!existsSync(path)) {
      throw new Error(
        `envtest: ${what} not found at ${path}: run 'pnpm envtest:setup' (it installs etcd and builds kube-apiserver from Debian packages), or set VMCP_ENVTEST_${what === 'etcd' ? 'ETCD' : 'APISERVER'}`,
      );
    }
  }
  hookExit();
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-envtest-'));
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const server = `https://127.0.0.1:${apiPort}`;
  const etcdLog = join(dir, 'etcd.log');
  const apiLog = join(dir, 'kube-apiserver.log');

  const adminToken = randomBytes(24).toString('hex');
  const userToken = randomBytes(24).toString('hex');
  writeFileSync(
    join(dir, 'tokens.csv'),
    `${adminToken},admin,admin,"system:masters"\n${userToken},vmcp-watcher,vmcp-watcher\n`,
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));

  const etcdProcess = launch(
    etcd,
    [
      '--name=envtest',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=envtest=http://127.0.0.1:${peerPort}`,
    ],
    etcdLog,
  );
  const apiArgs = [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    '--insecure-port=0',
    `--cert-dir=${join(dir, 'certs')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--disable-admission-plugins=ServiceAccount',
    ...(options.watchCache === false ? ['--watch-cache=false'] : []),
  ];
  let apiProcess: ChildProcess | undefined;
  let stopped = false;
  const processes = () => [apiProcess, etcdProcess];

  const fail = async (message: string): Promise<never> => {
    const logs = `--- kube-apiserver ---\n${tail(apiLog, 30)}\n--- etcd ---\n${tail(etcdLog, 15)}`;
    for (const child of processes()) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`envtest: ${message}\n${logs}`);
  };

  const deadline = Date.now() + timeoutMs;
  // etcd health
  for (;;) {
    try {
      const response = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) break;
    } catch {
      // not up yet
    }
    if (etcdProcess.exitCode !== null) return fail('etcd exited during startup');
    if (Date.now() > deadline) return fail('etcd did not become healthy in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  let connection: ApiConnection = { server, token: adminToken, ca: '' };
  const waitReady = async (until: number): Promise<void> => {
    const certPath = join(dir, 'certs', 'apiserver.crt');
    for (;;) {
      if (apiProcess?.exitCode !== null && apiProcess?.exitCode !== undefined) {
        throw new Error('kube-apiserver exited during startup');
      }
      if (existsSync(certPath)) {
        connection = { ...connection, ca: readFileSync(certPath, 'utf8') };
        try {
          const { status } = await apiRequest(connection, 'GET', '/readyz', undefined, {
            signal: AbortSignal.timeout(2000),
          });
          if (status === 200) return;
        } catch {
          // not up yet
        }
      }
      if (Date.now() > until) throw new Error('kube-apiserver did not become ready in time');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  apiProcess = launch(apiServer, apiArgs, apiLog);
  try {
    await waitReady(deadline);
  } catch (error) {
    return fail((error as Error).message);
  }

  const user = (username: string, token: string, file: string): EnvUser => {
    const path = join(dir, file);
    writeFileSync(path, kubeconfigYaml(server, connection.ca, username, token));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(path);
    return { username, token, kubeConfig, kubeconfigPath: path };
  };
  const admin = user('admin', adminToken, 'kubeconfig');
  const nonAdmin = user('vmcp-watcher', userToken, 'kubeconfig-non-admin');

  const crds =
    options.crds === 'none'
      ? []
      : options.crds === undefined || options.crds === 'toolhive'
        ? toolhiveCrdPaths
        : options.crds;
  if (crds.length > 0) {
    try {
      await installCrds(connection, crds, Math.max(5000, deadline - Date.now()));
    } catch (error) {
      return fail(`installing CRDs failed: ${(error as Error).message}`);
    }
  }

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopChild(apiProcess);
    await stopChild(etcdProcess);
    rmSync(dir, { recursive: true, force: true });
  };

  return {
    server,
    etcdUrl,
    kubeConfig: admin.kubeConfig,
    kubeconfigPath: admin.kubeconfigPath,
    admin,
    nonAdmin,
    get connection() {
      return connection;
    },
    get apiServerPid() {
      return apiProcess?.pid;
    },
    get etcdPid() {
      return etcdProcess.pid;
    },
    pause() {
      if (apiProcess?.pid === undefined) return;
      apiProcess.kill('SIGSTOP');
      waitStopped(apiProcess.pid);
    },
    resume() {
      apiProcess?.kill('SIGCONT');
    },
    async restart(options = {}) {
      await stopChild(apiProcess);
      if (options.downMs !== undefined && options.downMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, options.downMs));
      }
      apiProcess = launch(apiServer, apiArgs, apiLog);
      await waitReady(Date.now() + timeoutMs);
    },
    async compact() {
      const range = await fetch(`${etcdUrl}/v3/kv/range`, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
      });
      const revision = Number(
        ((await range.json()) as { header: { revision: string } }).header.revision,
      );
      const compaction = await fetch(`${etcdUrl}/v3/kv/compaction`, {
        method: 'POST',
        body: JSON.stringify({ revision, physical: true }),
      });
      if (!compaction.ok && compaction.status !== 400) {
        throw new Error(`etcd compaction failed: HTTP ${compaction.status}`);
      }
      return revision;
    },
    logs(lines = 50) {
      return `--- kube-apiserver ---\n${tail(apiLog, lines)}\n--- etcd ---\n${tail(etcdLog, lines)}`;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
