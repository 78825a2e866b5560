/**
 * The idle part of the watch benchmark: the sidecar in an empty namespace against a bare Node
 * process doing nothing (`setInterval`), both on the same Node binary with the same flags, each
 * measured 5 s after it is ready. Goal (issue 26): at most the bare process + 25 MB of RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { KubeClient } from '@vmcp/kube-runtime';
import { type SidecarBuild, spawnSidecar } from './contenders.js';
import { cell, loadAverage, type Memory, median, memoryOf } from './measure.js';

const SETTLE_MS = 5_000;
const GOAL_MB = 25;
const NAMESPACE = 'bench-idle';

/** What {@link measureIdle} runs. */
export interface IdleOptions {
  client: KubeClient;
  kubeconfigPath: string;
  /** Each sidecar to measure, by name. */
  sidecars: Map<string, SidecarBuild>;
  runs: number;
  nodeFlags: readonly string[];
}

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

async function stopped(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill();
  await exited;
}

async function bareNode(nodeFlags: readonly string[]): Promise<Memory> {
  const child = spawn(process.execPath, [...nodeFlags, '-e', 'setInterval(() => {}, 1 << 30)'], {
    stdio: 'ignore',
  });
  await settle();
  const memory = memoryOf(child.pid as number);
  await stopped(child);
  return memory;
}

/** Runs each process `runs` times, interleaved, and prints the medians and the goal. */
export async function measureIdle(options: IdleOptions): Promise<void> {
  await options.client
    .requestJson('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    })
    .catch(() => undefined);
  const target = {
    kubeconfigPath: options.kubeconfigPath,
    namespace: NAMESPACE,
    objects: 0,
    nodeFlags: options.nodeFlags,
  };
  const results = new Map<string, Memory[]>();
  const add = (name: string, memory: Memory) => {
    results.set(name, [...(results.get(name) ?? []), memory]);
    console.log(
      `  ${name.padEnd(36)} RSS ${cell(memory.rssMb, 1, 6)} MB (anon ${cell(memory.anonMb, 1, 5)}, file ${cell(memory.fileMb, 1, 5)}), peak ${cell(memory.peakMb, 1, 6)} MB`,
    );
  };
  for (let run = 0; run < options.runs; run++) {
    console.log(`idle run ${run + 1}/${options.runs} (load ${loadAverage()})`);
    add('bare Node', await bareNode(options.nodeFlags));
    for (const [name, build] of options.sidecars) {
      const sidecar = await spawnSidecar(name, build, target);
      try {
        await sidecar.synced();
        await settle();
        add(name, memoryOf(sidecar.process.pid as number));
      } finally {
        await sidecar.stop();
      }
    }
  }
  printIdle(results);
}

function printIdle(results: Map<string, Memory[]>): void {
  console.log(
    `\nidle in an empty namespace (median of ${results.get('bare Node')?.length} runs; load ${loadAverage()}):`,
  );
  console.log(
    `${'process'.padEnd(36)}${['RSS MB', 'anon MB', 'file MB', 'peak MB'].map((h) => h.padStart(10)).join('')}`,
  );
  const medians = new Map<string, Memory>();
  for (const [name, all] of results) {
    const m: Memory = {
      rssMb: median(all.map((x) => x.rssMb)),
      anonMb: median(all.map((x) => x.anonMb)),
      fileMb: median(all.map((x) => x.fileMb)),
      peakMb: median(all.map((x) => x.peakMb)),
    };
    medians.set(name, m);
    console.log(
      `${name.padEnd(36)}${cell(m.rssMb, 1)}${cell(m.anonMb, 1)}${cell(m.fileMb, 1)}${cell(m.peakMb, 1)}`,
    );
  }
  const bare = medians.get('bare Node') as Memory;
  for (const [name, m] of medians) {
    if (name === 'bare Node') continue;
    const over = m.rssMb - bare.rssMb;
    console.log(
      `${name} idles at bare Node + ${over.toFixed(1)} MB (anon +${(m.anonMb - bare.anonMb).toFixed(1)}, file +${(m.fileMb - bare.fileMb).toFixed(1)}); goal <= +${GOAL_MB} MB: ${over <= GOAL_MB ? 'met' : 'NOT met'}`,
    );
  }
}
