/**
 * What the caches hold (issues 13 and 26), on envtest, the sidecar run as its image runs it.
 *
 * 1. ConfigMaps: the sidecar's peak RSS (VmHWM, 5 s after it is ready) in a namespace with 50
 *    MCPServers and no ConfigMaps, then with 200 ConfigMaps of 100 KB (20 MB of data nobody
 *    references) created by POST, then the same created with `kubectl apply`, whose
 *    last-applied annotation carries each whole ConfigMap again, in the metadata the sidecar
 *    watches. Goal: each adds under 5 MB. Beside it, a ConfigMap informer that caches the data
 *    (upstream's cache), measured the same way.
 * 2. W1 (5,000 MCPServers of one group with a status URL) created by POST, then the same
 *    created with `kubectl apply`: the sidecar's start to a full registry and its peak RSS.
 *    Goal: the applied one costs at most 10 % more.
 *
 * `VMCP_BENCH_RUNS` (default 3) interleaved runs, medians printed.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { RESOURCES } from '@vmcp/reconciler';
import { imageNodeOptions, type SidecarBuild, spawnSidecar } from './contenders.js';
import { kubectlApply } from './kubectl-apply.js';
import { inParallel, loadAverage, median, memoryOf } from './measure.js';
import { readyW1, w1Server } from './w1.js';

const CONFIGMAPS = Number(process.env.VMCP_BENCH_CONFIGMAPS ?? 200);
const SIZE = Number(process.env.VMCP_BENCH_CONFIGMAP_BYTES ?? 100_000);
const WORKLOADS = 50;
const W1 = Number(process.env.VMCP_BENCH_OBJECTS ?? 5000);
const RUNS = Number(process.env.VMCP_BENCH_RUNS ?? 3);
const SETTLE_MS = 5_000;

const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@vmcp/backend-watcher/package.json')), 'dist/cli.js');
const sidecar: SidecarBuild = { cli, nodeOptions: imageNodeOptions(cli) };
const informerScript = fileURLToPath(new URL('./configmap-informer.mjs', import.meta.url));

const { MCPServer: MCP_SERVER, ConfigMap: CONFIG_MAP } = RESOURCES;

const env = await startEnv({ timeoutMs: 120_000 });
const client = new KubeClient(env.kubeConfig);

const configMap = (name: string, payload: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data: { 'config.json': payload },
});

/** A namespace with `count` MCPServers of group `bench` with a status URL, created as said. */
async function namespaceWith(namespace: string, count: number, how: 'POST' | 'apply') {
  await client.requestJson('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  const servers = new ResourceClient(client, MCP_SERVER, namespace);
  const objects = Array.from({ length: count }, (_, i) => w1Server(`s${i}`));
  const done =
    how === 'apply'
      ? await kubectlApply(
          { client, kubeconfigPath: env.kubeconfigPath, resource: MCP_SERVER },
          namespace,
          objects,
        )
      : await inParallel(objects, 32, async (object) => void (await servers.create(object)));
  await readyW1(
    servers,
    objects.map((object) => object.metadata.name as string),
  );
  return done ?? 'POST';
}

/** Adds the ConfigMaps to a namespace, by POST or with kubectl apply. */
async function addConfigMaps(namespace: string, how: 'POST' | 'apply') {
  const objects = Array.from({ length: CONFIGMAPS }, (_, i) =>
    configMap(`app-config-${i}`, 'x'.repeat(SIZE)),
  );
  if (how === 'apply') {
    return kubectlApply(
      { client, kubeconfigPath: env.kubeconfigPath, resource: CONFIG_MAP },
      namespace,
      objects,
    );
  }
  const configMaps = new ResourceClient(client, CONFIG_MAP, namespace);
  await inParallel(objects, 8, async (object) => void (await configMaps.create(object)));
  return 'POST';
}

/** The sidecar in a namespace: ms from spawn to ready, and peak RSS 5 s later. */
async function sidecarIn(namespace: string, objects: number) {
  const running = await spawnSidecar('sidecar', sidecar, {
    kubeconfigPath: env.kubeconfigPath,
    namespace,
    objects,
    nodeFlags: [],
  });
  try {
    const syncedMs = await running.synced();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return { syncedMs, peakMb: memoryOf(running.process.pid as number).peakMb };
  } finally {
    await running.stop();
  }
}

/** The data-caching ConfigMap informer in a namespace: its peak RSS 5 s after its sync. */
async function informerIn(namespace: string): Promise<number> {
  const child = spawn(process.execPath, [informerScript, env.kubeconfigPath, namespace], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  while (!output.includes('synced')) {
    if (child.exitCode !== null) throw new Error(`informer exited: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const { peakMb } = memoryOf(child.pid as number);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill();
  await exited;
  return peakMb;
}

const fmt = (values: number[], digits = 1) => values.map((v) => v.toFixed(digits)).join(', ');

async function configMaps(): Promise<void> {
  await namespaceWith('cm-none', WORKLOADS, 'POST');
  await namespaceWith('cm-post', WORKLOADS, 'POST');
  await addConfigMaps('cm-post', 'POST');
  await namespaceWith('cm-apply', WORKLOADS, 'POST');
  const how = await addConfigMaps('cm-apply', 'apply');
  console.log(`ConfigMaps created; the applied ones by ${how} (load ${loadAverage()})`);
  const rows = ['cm-none', 'cm-post', 'cm-apply'] as const;
  const sidecarMb = new Map<string, number[]>(rows.map((ns) => [ns, []]));
  const informerMb = new Map<string, number[]>(rows.map((ns) => [ns, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const ns of rows) {
      sidecarMb.get(ns)?.push((await sidecarIn(ns, WORKLOADS)).peakMb);
      informerMb.get(ns)?.push(await informerIn(ns));
    }
    console.log(
      `run ${run + 1}: sidecar ${rows.map((ns) => `${ns} ${sidecarMb.get(ns)?.at(-1)?.toFixed(1)} MB`).join(', ')} (load ${loadAverage()})`,
    );
  }
  console.log(
    `\nConfigMaps: peak RSS (MB, median of ${RUNS}), ${WORKLOADS} MCPServers, then ${CONFIGMAPS} ConfigMaps of ${SIZE / 1000} KB (load ${loadAverage()})`,
  );
  console.log('| contender | none | POST | kubectl apply | POST adds | apply adds |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, figures] of [
    ['vmcp-backend-watcher', sidecarMb],
    ['ConfigMap informer caching data', informerMb],
  ] as const) {
    const [none, post, apply] = rows.map((ns) => median(figures.get(ns) ?? []));
    console.log(
      `| ${name} | ${none?.toFixed(1)} | ${post?.toFixed(1)} | ${apply?.toFixed(1)} | ${((post ?? 0) - (none ?? 0)).toFixed(1)} | ${((apply ?? 0) - (none ?? 0)).toFixed(1)} |`,
    );
  }
  const added = median(sidecarMb.get('cm-apply') ?? []) - median(sidecarMb.get('cm-none') ?? []);
  console.log(
    `goal: kubectl-applied ConfigMaps add under 5 MB to the sidecar: ${added < 5 ? 'met' : 'NOT met'} (${added.toFixed(1)} MB; each run: ${fmt(sidecarMb.get('cm-apply') ?? [])} against ${fmt(sidecarMb.get('cm-none') ?? [])})`,
  );
}

async function appliedWorkloads(): Promise<void> {
  await namespaceWith('w1-post', W1, 'POST');
  const how = await namespaceWith('w1-apply', W1, 'apply');
  console.log(
    `\nW1 created twice, ${W1} MCPServers: by POST, and by ${how} (load ${loadAverage()})`,
  );
  const figures = {
    'w1-post': { ms: [] as number[], mb: [] as number[] },
    'w1-apply': { ms: [] as number[], mb: [] as number[] },
  };
  for (let run = 0; run < RUNS; run++) {
    for (const ns of ['w1-post', 'w1-apply'] as const) {
      const { syncedMs, peakMb } = await sidecarIn(ns, W1);
      figures[ns].ms.push(syncedMs);
      figures[ns].mb.push(peakMb);
      console.log(
        `run ${run + 1}: ${ns} start to full registry ${syncedMs.toFixed(0)} ms, peak RSS ${peakMb.toFixed(1)} MB (load ${loadAverage()})`,
      );
    }
  }
  const ratio = (key: 'ms' | 'mb') =>
    median(figures['w1-apply'][key]) / median(figures['w1-post'][key]);
  console.log(
    `W1 by kubectl apply against by POST (medians of ${RUNS}): peak RSS ${median(figures['w1-apply'].mb).toFixed(1)} / ${median(figures['w1-post'].mb).toFixed(1)} MB = ${ratio('mb').toFixed(2)}x (goal <= 1.10: ${ratio('mb') <= 1.1 ? 'met' : 'NOT met'}); start to full registry ${median(figures['w1-apply'].ms).toFixed(0)} / ${median(figures['w1-post'].ms).toFixed(0)} ms = ${ratio('ms').toFixed(2)}x (goal <= 1.10: ${ratio('ms') <= 1.1 ? 'met' : 'NOT met'})`,
  );
}

try {
  console.log(`sidecar NODE_OPTIONS as its image: '${sidecar.nodeOptions}'`);
  await configMaps();
  await appliedWorkloads();
} finally {
  await client.close();
  await env.stop();
}
