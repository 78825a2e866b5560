/**
 * Watch benchmark (issues 4 and 6): 5000 MCPServers of one group on the envtest API server. For
 * each contender, in its own process and one after another: time from start to holding every
 * object (for the BackendWatcher: every backend in the registry), peak RSS, and the latency from
 * a write to the handler (registry) under 200 patches/s. Contenders: a bare watch stream (the
 * floor), @kubernetes/client-node's makeInformer, @vmcp/kube-runtime's informer, and the
 * BackendWatcher. Goals are ratios within this run.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { RESOURCES } from '../src/index.js';

const COUNT = Number(process.env.VMCP_BENCH_OBJECTS ?? 5000);
const PATCHES_PER_SECOND = 200;
const PATCH_SECONDS = Number(process.env.VMCP_BENCH_PATCH_SECONDS ?? 5);
const contenders = ['bare', 'client-node', 'kube-runtime', 'backend-watcher'];

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
    { synced: number; rss: number; p50: number; p99: number; n: number }
  > = {};
  for (const contender of contenders) {
    const child = spawn(
      process.execPath,
      [
        // Plain Node 24 (type stripping), the workspace packages from their built dist/: no tsx
        // loader in the children, so each peak RSS is the contender's own.
        '--disable-warning=ExperimentalWarning',
        fileURLToPath(new URL('./contender.ts', import.meta.url)),
        contender,
        env.kubeconfigPath,
        String(COUNT),
      ],
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
    const waitFor = async (key: string) => {
      for (;;) {
        const found = lines.find((line) => key in line);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    const { synced } = (await waitFor('synced')) as { synced: number };
    // 200 patches per second to random objects, each carrying its send time.
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
    child.stdin.write('report\n');
    const { latencies, maxRssMb } = (await waitFor('latencies')) as {
      latencies: number[];
      maxRssMb: number;
    };
    child.kill();
    results[contender] = {
      synced,
      rss: maxRssMb,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      n: latencies.length,
    };
  }

  const f = (n: number, digits = 0) =>
    (Number.isFinite(n) ? n.toFixed(digits) : 'n/a').padStart(10);
  console.log(
    `\nwatch benchmark: ${COUNT} MCPServers, ${PATCHES_PER_SECOND} patches/s for ${PATCH_SECONDS} s (Node ${process.versions.node})`,
  );
  console.log(
    `${'contender'.padEnd(18)}${'synced ms'.padStart(10)}${'peak MB'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'events'.padStart(10)}`,
  );
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(18)}${f(r.synced)}${f(r.rss)}${f(r.p50, 1)}${f(r.p99, 1)}${f(r.n)}`);
  }
  const cn = results['client-node'];
  const bare = results.bare;
  for (const name of ['kube-runtime', 'backend-watcher']) {
    const r = results[name];
    if (!r || !cn || !bare) continue;
    console.log(
      `${name}: sync ${(r.synced / cn.synced).toFixed(2)}x client-node (goal <= 0.5), RSS ${(r.rss / cn.rss).toFixed(2)}x (goal <= 0.6), ` +
        `p50 +${(r.p50 - bare.p50).toFixed(1)} ms over bare (goal <= +1), p99 ${(r.p99 / bare.p99).toFixed(2)}x bare (goal <= 1.2)`,
    );
  }
} finally {
  await env.stop();
}
