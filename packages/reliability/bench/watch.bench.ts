/**
 * Watch benchmark (issues 4, 6 and 26): W1, MCPServers of one group with a status URL, on the
 * envtest API server, at 5,000 and 20,000 objects (`VMCP_BENCH_SIZES`). The anchor is client-go's
 * dynamic shared informer (`client-go.ts`; when it cannot be built, the bench says so and
 * measures against @kubernetes/client-node's informer instead). Contenders: @vmcp/kube-runtime's
 * informer, the BackendWatcher (synced when the registry is full) and the sidecar process (synced
 * when `/readyz` says the registry is full), each in its own process, timed from the spawn.
 *
 * 1. Sync: each contender alone on the machine, `VMCP_BENCH_RUNS` times (default 3),
 *    interleaved; every run printed, medians compared.
 * 2. Patches: all of them started again, synced, then watching the same 200 patches/s for
 *    `VMCP_BENCH_PATCH_SECONDS` (default 90: V8 enlarges a young generation for tens of seconds)
 *    together, so that a stall of the machine delays everyone alike: latency from the patch to the
 *    handler (for the sidecar: to a client of its event stream), peak RSS, CPU per event. client-go
 *    runs `VMCP_BENCH_ANCHORS` times at once (default 3): its peak RSS moves by 20 % from process
 *    to process, so its median is the reference.
 * 3. Idle: the sidecar in an empty namespace against a bare Node process.
 *
 * The sidecar runs as its image runs it: with the `NODE_OPTIONS` its Dockerfile sets.
 * `VMCP_BENCH_BASELINE=<another checkout>/apps/backend-watcher/dist/cli.js` adds that build's
 * sidecar (with its own Dockerfile's `NODE_OPTIONS`) to every step, e.g. main's for the
 * CPU-per-event goal; `VMCP_BENCH_SIDECAR_OPTIONS='--max-semi-space-size=2;;…'` adds the sidecar
 * with each of those `NODE_OPTIONS` (empty: none), to choose V8 settings; `VMCP_BENCH_ONLY` picks
 * the contenders (also `bare`, `client-node`, `backend-watcher+metrics`);
 * `VMCP_BENCH_NODE_FLAGS` gives every Node contender the same V8 flags on its command line.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startEnv } from '@vmcp/envtest';
import { KubeClient, ResourceClient } from '@vmcp/kube-runtime';
import { RESOURCES } from '@vmcp/reconciler';
import { type ClientGoAnchor, clientGoAnchor } from './client-go.js';
import {
  imageNodeOptions,
  prepareContenderScript,
  type Report,
  type Running,
  type SidecarBuild,
  spawnClientGo,
  spawnNode,
  spawnSidecar,
  type Target,
} from './contenders.js';
import { measureIdle } from './idle.js';
import { cell, inParallel, loadAverage, median, memoryOf } from './measure.js';
import { readyW1, w1Server } from './w1.js';

const SIZES = (process.env.VMCP_BENCH_SIZES ?? '5000,20000').split(',').map(Number);
const RUNS = Number(process.env.VMCP_BENCH_RUNS ?? 3);
const ANCHORS = Number(process.env.VMCP_BENCH_ANCHORS ?? 3);
const PATCHES_PER_SECOND = 200;
const PATCH_SECONDS = Number(process.env.VMCP_BENCH_PATCH_SECONDS ?? 90);
const NODE_FLAGS = (process.env.VMCP_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const BASELINE = process.env.VMCP_BENCH_BASELINE;
const NAMESPACE = 'default';

const require = createRequire(import.meta.url);
const sidecarCli = join(
  dirname(require.resolve('@vmcp/backend-watcher/package.json')),
  'dist/cli.js',
);

/** The sidecars to run, by contender name: this build's as its image runs it, and the others. */
function sidecarBuilds(): Map<string, SidecarBuild> {
  const builds = new Map<string, SidecarBuild>([
    ['sidecar', { cli: sidecarCli, nodeOptions: imageNodeOptions(sidecarCli) }],
  ]);
  if (BASELINE) {
    builds.set('sidecar (baseline)', { cli: BASELINE, nodeOptions: imageNodeOptions(BASELINE) });
  }
  for (const nodeOptions of process.env.VMCP_BENCH_SIDECAR_OPTIONS?.split(';') ?? []) {
    builds.set(`sidecar [${nodeOptions.trim() || 'no options'}]`, {
      cli: sidecarCli,
      nodeOptions: nodeOptions.trim(),
    });
  }
  return builds;
}
const sidecars = sidecarBuilds();

/** The contenders to run, and the reference the ratios are taken to. */
function plan(anchor: ClientGoAnchor): { names: string[]; reference: string } {
  const reference = 'path' in anchor ? 'client-go' : 'client-node';
  const only = process.env.VMCP_BENCH_ONLY?.split(',').filter(Boolean);
  const names = only ?? [reference, 'kube-runtime', 'backend-watcher', ...sidecars.keys()];
  if (!names.includes(reference)) names.unshift(reference);
  return { names, reference };
}

/** Starts one contender by name. */
async function start(name: string, anchor: ClientGoAnchor, target: Target): Promise<Running> {
  if (name === 'client-go' && 'path' in anchor) return spawnClientGo(anchor.path, target);
  const sidecar = sidecars.get(name);
  if (sidecar) return spawnSidecar(name, sidecar, target);
  return spawnNode(name, target);
}

/** Creates W1 objects up to `count` (names bench-0…), each with a Ready status and a URL. */
async function grow(servers: ResourceClient, from: number, count: number): Promise<void> {
  const creating = performance.now();
  const names = Array.from({ length: count - from }, (_, i) => `bench-${from + i}`);
  await inParallel(names, 32, async (name) => void (await servers.create(w1Server(name))));
  await readyW1(servers, names);
  const seconds = ((performance.now() - creating) / 1000).toFixed(1);
  console.log(`\ncreated MCPServers ${from} to ${count - 1} with status in ${seconds} s`);
}

/** Sync figures of one contender over the runs. */
interface SyncRuns {
  ms: number[];
  peakMb: number[];
}

/** Each contender alone, RUNS times, the order rotated per run; every run printed. */
async function syncRuns(names: string[], anchor: ClientGoAnchor, target: Target) {
  const runs = new Map<string, SyncRuns>(names.map((name) => [name, { ms: [], peakMb: [] }]));
  for (let run = 0; run < RUNS; run++) {
    console.log(`sync run ${run + 1}/${RUNS} (load ${loadAverage()})`);
    const order = names.map((_, i) => names[(i + run) % names.length] as string);
    for (const name of order) {
      const running = await start(name, anchor, target);
      try {
        const ms = await running.synced();
        await new Promise((resolve) => setTimeout(resolve, 200));
        const { peakMb } = memoryOf(running.process.pid as number);
        const figures = runs.get(name) as SyncRuns;
        figures.ms.push(ms);
        figures.peakMb.push(peakMb);
        const phases = await running.startPhases?.();
        console.log(
          `  ${name.padEnd(36)} synced in ${cell(ms, 0, 6)} ms, peak RSS ${cell(peakMb, 1, 6)} MB` +
            (phases ? `; start phases (ms since process start): ${JSON.stringify(phases)}` : ''),
        );
      } finally {
        await running.stop();
      }
    }
  }
  return runs;
}

/** 200 patches per second to spread-out objects, each carrying its send time in `bench/ts`. */
async function patch(servers: ResourceClient, objects: number): Promise<void> {
  const total = PATCHES_PER_SECOND * PATCH_SECONDS;
  const begin = Date.now();
  await inParallel(
    Array.from({ length: total }, (_, i) => i),
    16,
    async (i) => {
      const wait = begin + (i * 1000) / PATCHES_PER_SECOND - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await servers.patch(`bench-${(i * 7919) % objects}`, {
        metadata: { annotations: { 'bench/ts': String(Date.now()) } },
      });
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

/** Every contender (client-go ANCHORS times) synced, then the patches, then their reports. */
async function patchPhase(
  names: string[],
  anchor: ClientGoAnchor,
  target: Target,
  servers: ResourceClient,
) {
  const running: Running[] = [];
  const reports = new Map<string, Report[]>();
  try {
    for (const name of names) {
      for (let i = 0; i < (name === 'client-go' ? ANCHORS : 1); i++) {
        const contender = await start(name, anchor, target);
        running.push(contender);
        await contender.synced();
        await (contender as Running & { follow?: () => Promise<void> }).follow?.();
      }
    }
    console.log(
      `patches: ${PATCHES_PER_SECOND}/s for ${PATCH_SECONDS} s to ${running.length} processes (load ${loadAverage()})`,
    );
    await patch(servers, target.objects);
    for (const contender of running) {
      const report = await contender.report();
      reports.set(contender.name, [...(reports.get(contender.name) ?? []), report]);
    }
    console.log(`patches done (load ${loadAverage()})`);
  } finally {
    for (const contender of running) await contender.stop();
  }
  return reports;
}

/** One contender's figures at one size: medians over its sync runs and its processes. */
interface Row {
  syncMs: number;
  syncPeakMb: number;
  peakMb: number;
  p50: number;
  p99: number;
  cpuUsPerEvent: number;
  events: number;
  liveMb: number;
}

function rowOf(sync: SyncRuns | undefined, reports: Report[]): Row {
  const of = (pick: (report: Report) => number | undefined) =>
    median(reports.map(pick).filter((value): value is number => value !== undefined));
  return {
    syncMs: median(sync?.ms ?? []),
    syncPeakMb: median(sync?.peakMb ?? []),
    peakMb: of((r) => r.peakMb),
    p50: of((r) => r.p50),
    p99: of((r) => r.p99),
    cpuUsPerEvent: of((r) => r.cpuUsPerEvent),
    events: of((r) => r.events),
    liveMb: of((r) => r.liveMb),
  };
}

function printTable(objects: number, rows: Map<string, Row>, reports: Map<string, Report[]>) {
  console.log(
    `\nwatch benchmark: ${objects} MCPServers, ${PATCHES_PER_SECOND} patches/s for ${PATCH_SECONDS} s, ` +
      `median of ${RUNS} sync runs (Node ${process.versions.node}${NODE_FLAGS.length > 0 ? `, ${NODE_FLAGS.join(' ')}` : ''}; load ${loadAverage()})`,
  );
  const head = [
    'sync ms',
    'sync MB',
    'peak MB',
    'live MB',
    'p50 ms',
    'p99 ms',
    'CPU µs/ev',
    'events',
  ];
  console.log(`${'contender'.padEnd(36)}${head.map((h) => h.padStart(10)).join('')}`);
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(36)}${cell(r.syncMs)}${cell(r.syncPeakMb)}${cell(r.peakMb)}${cell(r.liveMb, 1)}` +
        `${cell(r.p50, 1)}${cell(r.p99, 1)}${cell(r.cpuUsPerEvent)}${cell(r.events)}`,
    );
    const all = reports.get(name) ?? [];
    if (all.length > 1) {
      console.log(
        `${''.padEnd(36)}each process: peak ${all.map((x) => x.peakMb.toFixed(0)).join(', ')} MB`,
      );
    }
  }
}

/** The ratios to the reference, with the issue's goals where it sets one. */
function printRatios(objects: number, rows: Map<string, Row>, reference: string): void {
  const ref = rows.get(reference);
  if (ref === undefined) return;
  const goals: Record<number, { sync: number; rss: number; p99?: number }> = {
    5000: { sync: 0.8, rss: 1.0, p99: 1.0 },
    20000: { sync: 0.7, rss: 0.6 },
  };
  const goal = goals[objects];
  for (const [name, r] of rows) {
    if (name === reference) continue;
    const ratio = (a: number, b: number, limit: number | undefined) =>
      `${(a / b).toFixed(2)}x${limit !== undefined && name.startsWith('sidecar') ? ` (goal <= ${limit}: ${a / b <= limit ? 'met' : 'NOT met'})` : ''}`;
    console.log(
      `${name} vs ${reference}: start→synced ${ratio(r.syncMs, ref.syncMs, goal?.sync)}, ` +
        `peak RSS ${ratio(r.peakMb, ref.peakMb, goal?.rss)}, p99 ${ratio(r.p99, ref.p99, goal?.p99)}, ` +
        `CPU per event ${ratio(r.cpuUsPerEvent, ref.cpuUsPerEvent, undefined)}`,
    );
  }
  const baseline = rows.get('sidecar (baseline)');
  const sidecar = rows.get('sidecar');
  if (baseline && sidecar) {
    const change = (sidecar.cpuUsPerEvent / baseline.cpuUsPerEvent - 1) * 100;
    console.log(
      `sidecar CPU per event against the baseline build: ${change >= 0 ? '+' : ''}${change.toFixed(1)} % (goal <= +10 %: ${change <= 10 ? 'met' : 'NOT met'})`,
    );
  }
}

/** What each extra object costs, between the smallest and the largest size. */
function printPerObject(bySize: Map<number, Map<string, Row>>): void {
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  if (sizes.length < 2) return;
  const [low, high] = [sizes[0] as number, sizes.at(-1) as number];
  console.log(
    `\nper object, from ${low} to ${high} objects (KB of peak RSS; at sync in brackets):`,
  );
  for (const [name, r] of bySize.get(high) ?? []) {
    const l = bySize.get(low)?.get(name);
    if (!l) continue;
    const kb = (a: number, b: number) => (((a - b) * 1024) / (high - low)).toFixed(1);
    console.log(
      `  ${name.padEnd(36)} ${kb(r.peakMb, l.peakMb)} KB (${kb(r.syncPeakMb, l.syncPeakMb)} KB)`,
    );
  }
}

const removeScript = prepareContenderScript();
const env = await startEnv({ timeoutMs: 120_000 });
const client = new KubeClient(env.kubeConfig);
try {
  const anchor = await clientGoAnchor();
  if ('unavailable' in anchor) {
    console.log(
      `client-go anchor unavailable (${anchor.unavailable}): ratios against client-node's informer instead`,
    );
  }
  const { names, reference } = plan(anchor);
  console.log(`contenders: ${names.join(', ')}; reference: ${reference}; load ${loadAverage()}`);
  const servers = new ResourceClient(client, RESOURCES.MCPServer, NAMESPACE);
  const bySize = new Map<number, Map<string, Row>>();
  let created = 0;
  for (const objects of SIZES) {
    await grow(servers, created, objects);
    created = objects;
    const target: Target = {
      kubeconfigPath: env.kubeconfigPath,
      namespace: NAMESPACE,
      objects,
      nodeFlags: NODE_FLAGS,
    };
    const sync = await syncRuns(names, anchor, target);
    const reports = await patchPhase(names, anchor, target, servers);
    const rows = new Map(
      names.map((name) => [name, rowOf(sync.get(name), reports.get(name) ?? [])]),
    );
    bySize.set(objects, rows);
    printTable(objects, rows, reports);
    printRatios(objects, rows, reference);
  }
  printPerObject(bySize);
  await measureIdle({
    client,
    kubeconfigPath: env.kubeconfigPath,
    sidecars,
    runs: RUNS,
    nodeFlags: NODE_FLAGS,
  });
} finally {
  await client.close();
  await env.stop();
  removeScript();
}
