/**
 * The contenders of the watch benchmark as processes with one protocol: `synced()` resolves with
 * the time from spawn to holding every object (for the sidecar: to `/readyz` answering 200, the
 * registry full), `report()` (after the patches) with the peak RSS, the latency of each patch to
 * the handler (the registry, the sidecar's event stream), and the CPU time per event since the
 * sync. Node contenders run `contender.ts` (as plain JavaScript: no loader in their RSS), the
 * client-go anchor its Go binary, the sidecar its built CLI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuUsOf, memoryOf, percentile } from './measure.js';

/** What a contender measured over the patches. */
export interface Report {
  peakMb: number;
  p50: number;
  p99: number;
  cpuUsPerEvent: number;
  events: number;
  /** Node contenders in-process: heap in use after a full GC, and V8's young generation. */
  liveMb?: number;
  youngMb?: number;
}

/** A running contender. */
export interface Running {
  readonly name: string;
  readonly process: ChildProcess;
  /** Milliseconds from the spawn to holding every object. */
  synced(): Promise<number>;
  /** Ends the measurement (the process exits, or is stopped) and says what it measured. */
  report(): Promise<Report>;
  /** Stops it (idempotent). */
  stop(): Promise<void>;
  /**
   * The sidecar's start phases, from its `registry synced` log line (waited for up to 3 s: the
   * line comes after the ones it logged while syncing); undefined for a build that has none.
   */
  startPhases?(): Promise<Record<string, number> | undefined>;
}

/** Where and how the contenders run. */
export interface Target {
  kubeconfigPath: string;
  namespace: string;
  objects: number;
  /** Extra V8 flags for every Node contender alike. */
  nodeFlags: readonly string[];
}

// contender.ts as plain JavaScript beside its source (so that it resolves the same packages).
const script = fileURLToPath(new URL('./contender.generated.mjs', import.meta.url));

/** Writes the contender script; returns the function that removes it. */
export function prepareContenderScript(): () => void {
  const source = readFileSync(fileURLToPath(new URL('./contender.ts', import.meta.url)), 'utf8');
  writeFileSync(script, stripTypeScriptTypes(source));
  return () => rmSync(script, { force: true });
}

/** A child's stdout as JSON lines (other lines are ignored), with a way to wait for one. */
class JsonLines {
  readonly lines: Record<string, unknown>[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    let buffer = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) {
        if (part.startsWith('{')) this.lines.push(JSON.parse(part) as Record<string, unknown>);
      }
      this.#wake();
    });
    child.once('exit', () => this.#wake());
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** The first line for which `test` holds, once it arrives; rejects when the child exits. */
  async first(test: (line: Record<string, unknown>) => boolean, what: string) {
    for (;;) {
      const found = this.lines.find(test);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `${what}: the process exited (${this.child.exitCode ?? this.child.signalCode})`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  };
}

/** A Node contender of contender.ts (`kube-runtime`, `backend-watcher`, `client-node`, …). */
export function spawnNode(name: string, target: Target, arg = target.kubeconfigPath): Running {
  const spawned = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      ...target.nodeFlags,
      script,
      name,
      arg,
      String(target.objects),
      target.namespace,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = new JsonLines(child);
  const synced = lines
    .first((line) => 'synced' in line, name)
    .then(() => performance.now() - spawned);
  return {
    name,
    process: child,
    synced: () => synced,
    async report() {
      child.stdin?.write('report\n');
      const line = (await lines.first((l) => 'latencies' in l, name)) as {
        latencies: number[];
        maxRssMb: number;
        youngMb: number;
        liveMb: number;
        cpuUsPerEvent: number;
      };
      return {
        peakMb: line.maxRssMb,
        p50: percentile(line.latencies, 50),
        p99: percentile(line.latencies, 99),
        cpuUsPerEvent: line.cpuUsPerEvent,
        events: line.latencies.length,
        liveMb: line.liveMb,
        youngMb: line.youngMb,
      };
    },
    stop: stopper(child),
  };
}

/** The client-go anchor: READY on stderr once synced, one JSON line on "report". */
export function spawnClientGo(binary: string, target: Target): Running {
  const spawned = performance.now();
  const child = spawn(
    binary,
    [`--kubeconfig=${target.kubeconfigPath}`, `--namespace=${target.namespace}`],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines = new JsonLines(child);
  const synced = new Promise<number>((resolve, reject) => {
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('READY')) resolve(performance.now() - spawned);
    });
    child.once('exit', (code) =>
      reject(new Error(`client-go exited ${code}: ${stderr.slice(-500)}`)),
    );
  });
  return {
    name: 'client-go',
    process: child,
    synced: () => synced,
    async report() {
      child.stdin?.write('report\n');
      const line = (await lines.first((l) => l.impl === 'client-go', 'client-go')) as {
        rssMB: number;
        latP50Ms: number;
        latP99Ms: number;
        cpuUsPerEvent: number;
        updates: number;
      };
      return {
        peakMb: line.rssMB,
        p50: line.latP50Ms,
        p99: line.latP99Ms,
        cpuUsPerEvent: line.cpuUsPerEvent,
        events: line.updates,
      };
    },
    stop: stopper(child),
  };
}

/** A free TCP port on loopback (closed again before the sidecar takes it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `/readyz` every 10 ms until it answers 200; rejects when the process exits. */
async function untilReady(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sidecar exited ${child.exitCode}`);
    const status = await fetch(`${url}/readyz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The `NODE_OPTIONS` a build's image runs its sidecar with (`ENV NODE_OPTIONS=…` in
 * `deploy/Dockerfile` beside its `dist/`), or '' when it sets none.
 */
export function imageNodeOptions(cli: string): string {
  const dockerfile = readFileSync(join(dirname(cli), '..', 'deploy', 'Dockerfile'), 'utf8');
  const value = /^ENV NODE_OPTIONS=(.*)$/m.exec(dockerfile)?.[1]?.trim() ?? '';
  return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** A sidecar to run: a build's CLI and the `NODE_OPTIONS` to give it. */
export interface SidecarBuild {
  /** A build's `apps/backend-watcher/dist/cli.js`. */
  cli: string;
  nodeOptions: string;
}

/**
 * The sidecar as deployed (its image's `NODE_OPTIONS`, its default log level), group `bench`.
 * Synced when `/readyz` says the registry reflects the caches. Its latency is measured by a
 * client of its event stream in another process (`follow()` starts it); its peak RSS and CPU
 * come from /proc.
 */
export async function spawnSidecar(name: string, build: SidecarBuild, target: Target) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawned = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...target.nodeFlags,
      build.cli,
      ...['--group', 'bench', '--namespace', target.namespace],
      ...['--kubeconfig', target.kubeconfigPath, '--listen', `127.0.0.1:${port}`],
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: build.nodeOptions },
    },
  );
  const lines = new JsonLines(child);
  let cpuAtSync = 0;
  const synced = untilReady(url, child).then(() => performance.now() - spawned);
  let client: Running | undefined;
  const running: Running & { follow(): Promise<void> } = {
    name,
    process: child,
    synced: () => synced,
    async follow() {
      client = spawnNode('events', target, url);
      await client.synced();
      // From here on: the events only (not the sync, nor the snapshot the client was sent).
      cpuAtSync = cpuUsOf(child.pid as number);
    },
    async report() {
      const peakMb = memoryOf(child.pid as number).peakMb;
      const cpuUs = cpuUsOf(child.pid as number) - cpuAtSync;
      // The client's own heap figures are not the sidecar's: only its latencies are kept.
      const { p50, p99, events } = await (client as Running).report();
      return { peakMb, p50, p99, events, cpuUsPerEvent: cpuUs / Math.max(1, events) };
    },
    async stop() {
      await client?.stop();
      await stopper(child)();
    },
    async startPhases() {
      const line = await Promise.race([
        lines.first((l) => l.msg === 'registry synced', name).catch(() => undefined),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000)),
      ]);
      return line?.startMs as Record<string, number> | undefined;
    },
  };
  return running;
}
