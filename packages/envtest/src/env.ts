import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { ApiServer, apiServerBinary } from './apiserver.js';
import { type EnvUser, writeCredentials, writeUser } from './auth.js';
import { installCrds } from './crds.js';
import { Etcd, etcdBinary } from './etcd.js';
import type { ApiConnection } from './http.js';
import { killChildrenOnExit, tail } from './process.js';
import { checkWaitMs } from './wait.js';

// An environment is controller-runtime's control plane, in its parts: etcd (etcd.ts),
// kube-apiserver (apiserver.ts), who may call it (auth.ts), and the CRDs (crds.ts). This file
// puts them together and owns the folder they share.

/**
 * The default ceiling of {@link startEnv} and {@link Env.restart}. Measured on 2 cores, a start
 * (etcd, kube-apiserver, the five CRDs Established and served) took 12 to 31 s beside other test
 * suites and up to 39 s with two busy loops added, a restart up to 21 s: more than four times the
 * slowest start, it is reached only by a start that hangs.
 */
const START_TIMEOUT_MS = 180_000;

/** Options of {@link startEnv}. */
export interface StartEnvOptions {
  /** CRDs to install: the ToolHive ones (default), none, or manifest paths. */
  crds?: 'toolhive' | 'none' | readonly string[];
  /**
   * How long startup, and each {@link Env.restart}, may take before it fails naming the step
   * that did not finish: 1 s to 1 h (else a `RangeError`). Default {@link START_TIMEOUT_MS}.
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
   * Restarts the API server on the same port and etcd (every connection drops). With `downMs`
   * (0 to 10 min, else a `RangeError`), it stays down that long first (its port refuses
   * connections, as a crashed API server's), then starts again; resolves once it is ready.
   */
  restart(options?: { downMs?: number }): Promise<void>;
  /**
   * Compacts etcd up to its current revision (the newest write survives): watches that reach
   * etcd from a resourceVersion older than the newest write's predecessor get 410 Gone (all of
   * them with `watchCache: false`; with the watch cache, once the version is out of its window or
   * after a restart). Resolves with the revision.
   */
  compact(): Promise<number>;
  /** The last lines of the API server and etcd logs. */
  logs(lines?: number): string;
  /** Stops both processes and removes the temp directory. Safe to call twice. */
  stop(): Promise<void>;
  /** The same as {@link Env.stop}, for `await using env = await startEnv()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The two binaries, or an error naming the step that installs the missing one. */
function installedBinaries(): { apiServer: string; etcd: string } {
  const binaries = { apiServer: apiServerBinary(), etcd: etcdBinary() };
  for (const [what, path, variable] of [
    ['kube-apiserver', binaries.apiServer, 'VMCP_ENVTEST_APISERVER'],
    ['etcd', binaries.etcd, 'VMCP_ENVTEST_ETCD'],
  ] as const) {
    if (!existsSync(path)) {
      throw new Error(
        `envtest: ${what} not found at ${path}: run 'pnpm envtest:setup' (it installs etcd and builds kube-apiserver from Debian packages), or set ${variable}`,
      );
    }
  }
  return binaries;
}

/** The manifests `options.crds` asks for. */
function crdPaths(crds: StartEnvOptions['crds']): readonly string[] {
  if (crds === 'none') return [];
  return crds === undefined || crds === 'toolhive' ? toolhiveCrdPaths : crds;
}

function logs(apiServer: ApiServer, etcd: Etcd, apiLines: number, etcdLines: number): string {
  return `--- kube-apiserver ---\n${tail(apiServer.logPath, apiLines)}\n--- etcd ---\n${tail(etcd.logPath, etcdLines)}`;
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
  const timeoutMs = checkWaitMs(
    'timeoutMs',
    options.timeoutMs ?? START_TIMEOUT_MS,
    1000,
    3_600_000,
  );
  const binaries = installedBinaries();
  killChildrenOnExit();
  const deadline = Date.now() + timeoutMs;
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-envtest-'));
  const credentials = writeCredentials(dir);
  const etcd = await Etcd.launch(binaries.etcd, dir);
  const apiServer = await ApiServer.create({
    binary: binaries.apiServer,
    dir,
    etcdUrl: etcd.url,
    authArgs: credentials.apiServerArgs,
    adminToken: credentials.admin.token,
    watchCache: options.watchCache !== false,
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await apiServer.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await etcd.waitHealthy(deadline);
    apiServer.start();
    await apiServer.waitReady(deadline);
    await installRequestedCrds(apiServer.connection, crdPaths(options.crds), deadline);
  } catch (error) {
    const startupLogs = logs(apiServer, etcd, 30, 15);
    await stop();
    throw new Error(`envtest: ${(error as Error).message}\n${startupLogs}`);
  }
  const cluster = { server: apiServer.url, ca: apiServer.connection.ca };
  const users = {
    admin: writeUser(dir, 'kubeconfig', cluster, credentials.admin),
    nonAdmin: writeUser(dir, 'kubeconfig-non-admin', cluster, credentials.user),
  };
  return envOf({ apiServer, etcd, ...users, restartTimeoutMs: timeoutMs, stop });
}

/** The handle of a started environment. */
function envOf(parts: {
  apiServer: ApiServer;
  etcd: Etcd;
  admin: EnvUser;
  nonAdmin: EnvUser;
  restartTimeoutMs: number;
  stop: () => Promise<void>;
}): Env {
  const { apiServer, etcd, admin, nonAdmin, stop } = parts;
  return {
    server: apiServer.url,
    etcdUrl: etcd.url,
    kubeConfig: admin.kubeConfig,
    kubeconfigPath: admin.kubeconfigPath,
    admin,
    nonAdmin,
    get connection() {
      return apiServer.connection;
    },
    get apiServerPid() {
      return apiServer.pid;
    },
    get etcdPid() {
      return etcd.pid;
    },
    pause: () => apiServer.pause(),
    resume: () => apiServer.resume(),
    restart: async ({ downMs = 0 } = {}) =>
      apiServer.restart(parts.restartTimeoutMs, checkWaitMs('downMs', downMs, 0, 600_000)),
    compact: () => etcd.compact(),
    logs: (lines = 50) => logs(apiServer, etcd, lines, lines),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function installRequestedCrds(
  connection: ApiConnection,
  paths: readonly string[],
  deadline: number,
): Promise<void> {
  if (paths.length === 0) return;
  try {
    await installCrds(connection, paths, Math.max(5000, deadline - Date.now()));
  } catch (error) {
    throw new Error(`installing CRDs failed: ${(error as Error).message}`);
  }
}
