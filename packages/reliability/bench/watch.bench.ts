/**
 * Watch benchmark (issues 4 and 6): 5000 MCPServers of one group on the envtest API server. Each
 * contender runs in its own process. First each alone, one after another: time from start to
 * holding every object (for the BackendWatcher: every backend in the registry). Then all of them
 * again, synced, watching the same 200 patches/s together: latency from a write to the handler
 * (to the registry), each process's peak RSS, and the heap it holds at the end. Contenders: a
 * bare watch stream (the floor), @kubernetes/client-node's makeInformer, @vmcp/kube-runtime's
 * informer, and the BackendWatcher without and with a metrics registry. Goals are ratios within
 * this run.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { RESOURCES } from '../src/index.js';

const COUNT = Number(process.env.VMCP_BENCH_OBJECTS ?? 5000);
const PATCHES_PER_SECOND = 200;
// Long enough for the peak RSS to settle: a process that allocates above ~1 KB/ms while objects
// keep surviving scavenges has V8 enlarge its young generation step by step (the BackendWatcher
// reaches its maximum 10 to 40 s in, our informer did ~40 s in before its push-based path); a 5 s
// window measured a peak 25 MB lower than the steady one.
const PATCH_SECONDS = Number(process.env.VMCP_BENCH_PATCH_SECONDS ?? 90);
// The BackendWatcher runs twice: as a library program would (no metrics registry, so prom-client
// is never loaded) and as the sidecar runs it (with one). VMCP_BENCH_ONLY picks a subset.
const contenders = (
  process.env.VMCP_BENCH_ONLY ??
  'bare,client-node,kube-runtime,backend-watcher,backend-watcher+metrics'
).split(',');

// V8 flags given to every contender alike (e.g. `--max-semi-space-size=2`): the same flags for
// all, so that the ratios stay a comparison of libraries rather than of heap settings.
const NODE_FLAGS = (process.env.VMCP_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

async function inParallel<T>(items: T[], limit: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

// The children run plain JavaScript on plain Node 24 with the workspace packages from their built
// dist/: no tsx loader and no type stripping (which alone adds ~13 MB of RSS to a process), so
// each peak RSS is the contender's own. The script is written beside its source so that it
// resolves the same packages, and removed afterwards.
const script = fileURLToPath(new URL('./contender.generated.mjs', import.meta.url));
writeFileSync(
  script,
  stripTypeScriptTypes(
    readFileSync(fileURLToPath(new URL('./contender.ts', import.meta.url)), 'utf8'),
  ),
);
/** A contender's process, and a way to wait for the first JSON line carrying a key. */
function spawnContender(name: string) {
  const child = spawn(
    process.execPath,
    ['--expose-gc', ...NODE_FLAGS, script, name, env.kubeconfigPath, String(COUNT)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part));
    for (const wake of waiters.splice(0)) wake();
  });
  child.once('exit', () => {
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = async (key: string) => {
    for (;;) {
      const found = lines.find((line) => key in line);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`contender ${name} exited ${child.exitCode}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { process: child, waitFor };
}

const env = await startEnv();
try {
  const servers = new ResourceClient(
    new KubeClient(env.kubeConfig),
    RESOURCES.MCPServer,
    'default',
  );
  const creating = performance.now();
  const names = Array.from({ length: COUNT }, (_, i) => `bench-${i}`);
  await inParallel(names, 32, async (name) => {
    await servers.create({
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPServer',
      metadata: { name },
      spec: {
        image: 'ghcr.io/example/fetch:1',
        transport: 'streamable-http',
        groupRef: { name: 'bench' },
      },
    } as KubeObject);
    await servers.patchStatus(name, {
      status: { phase: 'Ready', url: `http://${name}.default.svc:8080` },
    });
  });
  console.log(
    `created ${COUNT} MCPServers with status in ${((performance.now() - creating) / 1000).toFixed(1)} s`,
  );

  const results: Record<
    string,
    {
      synced: number;
      rss: number;
      young: number;
      live: number;
      cpu: number;
      p50: number;
      p99: number;
      n: number;
    }
  > = {};
  // Time to sync: each contender alone on the machine, one after another.
  const syncedMs: Record<string, number> = {};
  for (const name of contenders) {
    const child = spawnContender(name);
    try {
      syncedMs[name] = ((await child.waitFor('synced')) as { synced: number }).synced;
    } finally {
      const exited = new Promise((resolve) => child.process.once('exit', resolve));
      if (child.process.exitCode === null && child.process.kill()) await exited;
    }
  }
  // Latency and peak RSS: the contenders started again, synced, then all watching the same
  // patches at the same time, so that a stall of the machine or the API server delays every
  // contender's events alike and the latency ratios compare like with like. Peak RSS is still
  // each process's own.
  const running: { name: string; child: ReturnType<typeof spawnContender> }[] = [];
  try {
    for (const name of contenders) {
      const child = spawnContender(name);
      running.push({ name, child });
      await child.waitFor('synced');
    }
    // 200 patches per second to spread-out objects, each carrying its send time.
    const total = PATCHES_PER_SECOND * PATCH_SECONDS;
    const start = Date.now();
    await inParallel(
      Array.from({ length: total }, (_, i) => i),
      16,
      async (i) => {
        const due = start + (i * 1000) / PATCHES_PER_SECOND;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await servers.patch(`bench-${(i * 7919) % COUNT}`, {
          metadata: { annotations: { 'bench/sent': String(Date.now()) } },
        });
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const { name, child } of running) {
      child.process.stdin?.write('report\n');
      const { latencies, maxRssMb, youngMb, liveMb, cpuUsPerEvent } = (await child.waitFor(
        'latencies',
      )) as {
        latencies: number[];
        maxRssMb: number;
        youngMb: number;
        liveMb: number;
        cpuUsPerEvent: number;
      };
      results[name] = {
        synced: syncedMs[name] ?? Number.NaN,
        rss: maxRssMb,
        young: youngMb,
        live: liveMb,
        cpu: cpuUsPerEvent,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        n: latencies.length,
      };
    }
  } finally {
    for (const { child } of running) child.process.kill();
  }

  const f = (n: number, digits = 0) =>
    (Number.isFinite(n) ? n.toFixed(digits) : 'n/a').padStart(10);
  console.log(
    `\nwatch benchmark: ${COUNT} MCPServers, ${PATCHES_PER_SECOND} patches/s for ${PATCH_SECONDS} s (Node ${process.versions.node}${NODE_FLAGS.length > 0 ? `, every contender with ${NODE_FLAGS.join(' ')}` : ''})`,
  );
  console.log(
    `${'contender'.padEnd(24)}${'synced ms'.padStart(10)}${'peak MB'.padStart(10)}${'young MB'.padStart(10)}${'live MB'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'CPU µs/ev'.padStart(10)}${'events'.padStart(10)}`,
  );
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(24)}${f(r.synced)}${f(r.rss)}${f(r.young)}${f(r.live, 1)}${f(r.p50, 1)}${f(r.p99, 1)}${f(r.cpu)}${f(r.n)}`,
    );
  }
  console.log(
    "(young MB: V8's young generation at the end, which it enlarges while objects keep surviving and allocation stays above ~1 MB/s;\n" +
      ' live MB: heap in use after a full GC at the end, what the program holds whatever the heap sizing;\n' +
      ' CPU µs/ev: CPU time from the sync to the end per update event, garbage collection included)',
  );
  const cn = results['client-node'];
  const bare = results.bare;
  for (const name of ['kube-runtime', 'backend-watcher', 'backend-watcher+metrics']) {
    const r = results[name];
    if (!r || !cn || !bare) continue;
    console.log(
      `${name}: sync ${(r.synced / cn.synced).toFixed(2)}x client-node (goal <= 0.5), RSS ${(r.rss / cn.rss).toFixed(2)}x (goal <= 0.6), ` +
        `p50 +${(r.p50 - bare.p50).toFixed(1)} ms over bare (goal <= +1), p99 ${(r.p99 / bare.p99).toFixed(2)}x bare (goal <= 1.2); ` +
        `live heap ${(r.live / cn.live).toFixed(2)}x client-node`,
    );
  }
} finally {
  await env.stop();
  rmSync(script, { force: true });
}
