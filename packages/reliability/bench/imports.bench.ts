/**
 * Where the sidecar's fixed cost goes (issue 26): its imports in its own order, step by step in
 * one process (`imports-probe.mjs`), each followed by a full GC, with the RSS each step adds
 * (anonymous: what the program allocated; file-backed: the pages of the node binary it touched),
 * the V8 heap and the step's time; the last step runs it idle (an empty namespace watched, the
 * API answering) for 5 s. With `VMCP_BENCH_BASELINE=<checkout>/apps/backend-watcher/dist/cli.js`
 * the same for that build, side by side. Each build runs with its image's `NODE_OPTIONS`.
 * `VMCP_BENCH_RUNS` runs (default 3), medians.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startEnv } from '@vmcp/envtest';
import { KubeClient } from '@vmcp/kube-runtime';
import { imageNodeOptions } from './contenders.js';
import { loadAverage, median } from './measure.js';

const RUNS = Number(process.env.VMCP_BENCH_RUNS ?? 3);
const probe = fileURLToPath(new URL('./imports-probe.mjs', import.meta.url));
const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@vmcp/backend-watcher/package.json')), 'dist/cli.js');
/** A build's root, from its `apps/backend-watcher/dist/cli.js`. */
const rootOf = (cliPath: string) => join(dirname(cliPath), '..', '..', '..');

interface Step {
  step: string;
  skipped: boolean;
  ms: number;
  rss: number;
  anon: number;
  file: number;
  heap: number;
}

async function runProbe(cliPath: string, kubeconfig: string): Promise<Step[]> {
  const options = imageNodeOptions(cliPath).split(/\s+/).filter(Boolean);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', ...options, probe, rootOf(cliPath), kubeconfig, 'bench-imports'],
    { maxBuffer: 1 << 20 },
  );
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Step);
}

/** Per step, the median over runs of what it added. */
function added(runs: Step[][]): Map<string, Step> {
  const steps = new Map<string, Step>();
  for (const [i, first] of (runs[0] ?? []).entries()) {
    // Memory figures are totals after each step; times are each step's own.
    const of = (key: 'ms' | 'rss' | 'anon' | 'file' | 'heap') =>
      median(
        runs.map(
          (run) => (run[i]?.[key] ?? 0) - (i > 0 && key !== 'ms' ? (run[i - 1]?.[key] ?? 0) : 0),
        ),
      );
    steps.set(first.step, {
      ...first,
      ms: of('ms'),
      rss: of('rss'),
      anon: of('anon'),
      file: of('file'),
      heap: of('heap'),
    });
  }
  return steps;
}

const cellOf = (step: Step | undefined) =>
  step === undefined || step.skipped
    ? '(none) |'
    : `${step.rss.toFixed(1)} (${step.anon.toFixed(1)} + ${step.file.toFixed(1)}), heap ${step.heap.toFixed(1)}, ${step.ms.toFixed(0)} ms |`;

const env = await startEnv({ timeoutMs: 120_000 });
const client = new KubeClient(env.kubeConfig);
try {
  await client.requestJson('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-imports' } },
  });
  const builds: [string, string][] = [['this build', cli]];
  if (process.env.VMCP_BENCH_BASELINE) builds.push(['baseline', process.env.VMCP_BENCH_BASELINE]);
  const results = new Map<string, Map<string, Step>>();
  for (const [name, cliPath] of builds) {
    const runs: Step[][] = [];
    for (let run = 0; run < RUNS; run++) runs.push(await runProbe(cliPath, env.kubeconfigPath));
    results.set(name, added(runs));
    const total = median(runs.map((run) => run.at(-1)?.rss ?? Number.NaN));
    console.log(
      `${name}: ${total.toFixed(1)} MB idle (NODE_OPTIONS '${imageNodeOptions(cliPath)}', load ${loadAverage()})`,
    );
  }
  console.log(
    `\nimport costs, in the sidecar's order: MB of RSS each step adds (anonymous + file-backed), V8 heap, time; median of ${RUNS}`,
  );
  console.log(`| step | ${builds.map(([name]) => name).join(' | ')} |`);
  console.log(`| --- |${builds.map(() => ' --- |').join('')}`);
  for (const step of results.get('this build')?.keys() ?? []) {
    console.log(
      `| ${step} | ${builds.map(([name]) => cellOf(results.get(name)?.get(step))).join(' ')}`,
    );
  }
} finally {
  await client.close();
  await env.stop();
}
