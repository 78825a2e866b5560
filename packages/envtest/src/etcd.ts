import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, hasExited, launch, stopChild } from './process.js';
import { until } from './wait.js';

/** etcd from Debian's etcd-server, unless `VMCP_ENVTEST_ETCD` says otherwise. */
export function etcdBinary(): string {
  return process.env.VMCP_ENVTEST_ETCD ?? '/usr/bin/etcd';
}

/** A one-member etcd on free loopback ports, with its data and log in an environment's folder. */
export class Etcd {
  /** `http://127.0.0.1:PORT`, for clients. */
  readonly url: string;
  readonly logPath: string;
  readonly #process: ChildProcess;

  private constructor(url: string, logPath: string, child: ChildProcess) {
    this.url = url;
    this.logPath = logPath;
    this.#process = child;
  }

  /** Starts etcd; {@link Etcd.waitHealthy} says when it serves. */
  static async launch(binary: string, dir: string): Promise<Etcd> {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const logPath = join(dir, 'etcd.log');
    const args = [
      '--name=envtest',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=envtest=${peerUrl}`,
    ];
    return new Etcd(url, logPath, launch(binary, args, logPath));
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Resolves once etcd answers `/health`; fails if it exits first or `deadline` passes. */
  waitHealthy(deadline: number): Promise<void> {
    return until(
      async () => {
        try {
          return (await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) })).ok;
        } catch {
          return false; // not up yet
        }
      },
      {
        deadline,
        intervalMs: 100,
        timedOut: 'etcd did not become healthy in time',
        gaveUp: () => (hasExited(this.#process) ? 'etcd exited during startup' : undefined),
      },
    );
  }

  /**
   * Compacts up to the current revision (the newest write survives) and resolves with that
   * revision. A compaction etcd refuses as already done (400) counts as done.
   */
  async compact(): Promise<number> {
    const range = await fetch(`${this.url}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
    });
    const revision = Number(
      ((await range.json()) as { header: { revision: string } }).header.revision,
    );
    const compaction = await fetch(`${this.url}/v3/kv/compaction`, {
      method: 'POST',
      body: JSON.stringify({ revision, physical: true }),
    });
    if (!compaction.ok && compaction.status !== 400) {
      throw new Error(`etcd compaction failed: HTTP ${compaction.status}`);
    }
    return revision;
  }

  stop(): Promise<void> {
    return stopChild(this.#process);
  }
}
