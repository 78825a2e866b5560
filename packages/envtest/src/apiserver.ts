import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ApiConnection, apiRequest } from './http.js';
import { freePort, hasExited, launch, stopChild, waitStopped } from './process.js';
import { sleep, until } from './wait.js';

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

/** What a {@link ApiServer} is started with. */
export interface ApiServerOptions {
  binary: string;
  /** The environment's folder: certificates and the log go there. */
  dir: string;
  etcdUrl: string;
  /** Flags for authentication and authorisation, from the environment's credentials. */
  authArgs: readonly string[];
  /** The admin token the harness's own requests (readiness, CRDs) carry. */
  adminToken: string;
  watchCache: boolean;
}

/**
 * kube-apiserver on a free loopback port, serving HTTPS with the self-signed certificate it makes
 * at its first start. It keeps its port, certificate and etcd across {@link ApiServer.restart}.
 */
export class ApiServer {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  readonly logPath: string;
  readonly #binary: string;
  readonly #args: readonly string[];
  readonly #certPath: string;
  #connection: ApiConnection;
  #process: ChildProcess | undefined;

  private constructor(options: ApiServerOptions, port: number) {
    this.url = `https://127.0.0.1:${port}`;
    this.logPath = join(options.dir, 'kube-apiserver.log');
    this.#binary = options.binary;
    this.#certPath = join(options.dir, 'certs', 'apiserver.crt');
    this.#connection = { server: this.url, token: options.adminToken, ca: '' };
    this.#args = [
      `--etcd-servers=${options.etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      '--insecure-port=0',
      `--cert-dir=${join(options.dir, 'certs')}`,
      ...options.authArgs,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--disable-admission-plugins=ServiceAccount',
      ...(options.watchCache ? [] : ['--watch-cache=false']),
    ];
  }

  /** Picks a port; {@link ApiServer.start} launches the process. */
  static async create(options: ApiServerOptions): Promise<ApiServer> {
    return new ApiServer(options, await freePort());
  }

  /** The admin's connection, with the server's certificate once it made one. */
  get connection(): ApiConnection {
    return this.#connection;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  start(): void {
    this.#process = launch(this.#binary, this.#args, this.logPath);
  }

  /** Resolves once `/readyz` answers 200; fails if the process exits first or `deadline` passes. */
  waitReady(deadline: number): Promise<void> {
    return until(async () => (await this.#readyz()) === 200, {
      deadline,
      intervalMs: 200,
      timedOut: 'kube-apiserver did not become ready in time',
      gaveUp: () => (hasExited(this.#process) ? 'kube-apiserver exited during startup' : undefined),
    });
  }

  /** `/readyz`'s status, or undefined before the server made its certificate or answers. */
  async #readyz(): Promise<number | undefined> {
    if (!existsSync(this.#certPath)) return undefined;
    this.#connection = { ...this.#connection, ca: readFileSync(this.#certPath, 'utf8') };
    try {
      const { status } = await apiRequest(this.#connection, 'GET', '/readyz', undefined, {
        signal: AbortSignal.timeout(2000),
      });
      return status;
    } catch {
      return undefined; // not up yet
    }
  }

  /** SIGSTOP; returns once every thread of it stopped. */
  pause(): void {
    if (this.#process?.pid === undefined) return;
    this.#process.kill('SIGSTOP');
    waitStopped(this.#process.pid);
  }

  resume(): void {
    this.#process?.kill('SIGCONT');
  }

  /**
   * Stops the process and starts it again on the same port, after `downMs` without one (its port
   * refuses connections meanwhile); resolves once it is ready.
   */
  async restart(timeoutMs: number, downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await sleep(downMs);
    this.start();
    await this.waitReady(Date.now() + timeoutMs);
  }

  stop(): Promise<void> {
    return stopChild(this.#process);
  }
}
