/**
 * ConfigMap benchmark (static-stability issue, item 3). The built sidecar's peak RSS in a
 * namespace with 200 ConfigMaps of 100 KB each (20 MB of data nobody references, as a real
 * namespace's dashboards and app configs) against the same namespace without them. The sidecar
 * watches ConfigMaps as metadata only, so the two should differ by under 5 MB. Beside it, in the
 * same run: a ConfigMap informer that caches the data (upstream's cache, and this project's before
 * the metadata-only watch), measured the same way. Real kube-apiserver (envtest).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { SIDECAR_CLI } from '../src/fixtures.js';
import { readRss } from './rss.js';

const CONFIGMAPS = Number(process.env.VMCP_BENCH_CONFIGMAPS ?? 200);
const SIZE = Number(process.env.VMCP_BENCH_CONFIGMAP_BYTES ?? 100_000);
const WORKLOADS = 50;
const RUNS = Number(process.env.VMCP_BENCH_RUNS ?? 3);
const GOAL_MB = 5;

const informerScript = fileURLToPath(new URL('./configmap-informer.mjs', import.meta.url));

const env = await startEnv({ timeoutMs: 120_000 });
const client = new KubeClient(env.kubeConfig);
const namespaces = { without: 'cm-none', with: 'cm-many' };

async function fill(namespace: string, configMaps: number): Promise<void> {
  await client.requestJson('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  const resources = {
    server: new ResourceClient(
      client,
      {
        group: 'toolhive.stacklok.dev',
        version: 'v1beta1',
        plural: 'mcpservers',
        kind: 'MCPServer',
      },
      namespace,
    ),
    configMap: new ResourceClient(
      client,
      { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
      namespace,
    ),
  };
  for (let i = 0; i < WORKLOADS; i++) {
    await resources.server.create({
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPServer',
      metadata: { name: `s${i}` },
      spec: { image: 'example/mcp:1', transport: 'sse', groupRef: { name: 'g' } },
    } as KubeObject);
    await resources.server.patchStatus(`s${i}`, {
      status: { phase: 'Ready', url: `http://s${i}.${namespace}.svc:8080` },
    });
  }
  const payload = 'x'.repeat(SIZE);
  for (let i = 0; i < configMaps; i++) {
    await resources.configMap.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `app-config-${i}` },
      data: { 'config.json': payload },
    } as KubeObject);
  }
}

/** Starts a process, waits for `ready(output)`, lets it settle, and returns its peak RSS. */
async function measure(args: string[], ready: (output: string) => Promise<boolean> | boolean) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const deadline = Date.now() + 120_000;
  while (!(await ready(output))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} did not become ready: ${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const mb = readRss(child.pid as number).peakMb;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return mb;
}

function sidecar(namespace: string): Promise<number> {
  let url: string | undefined;
  return measure(
    [
      SIDECAR_CLI,
      '--group',
      'g',
      '--namespace',
      namespace,
      '--kubeconfig',
      env.kubeconfigPath,
      '--listen',
      '127.0.0.1:0',
    ],
    async (output) => {
      url ??= /"url":"([^"]+)"/.exec(output)?.[1];
      if (url === undefined) return false;
      const body = await fetch(`${url}/v1/backends`)
        .then((r) => r.json() as Promise<{ backends: unknown[] }>)
        .catch(() => undefined);
      return (
        (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200 &&
        body?.backends.length === WORKLOADS
      );
    },
  );
}

function informer(namespace: string): Promise<number> {
  return measure([informerScript, env.kubeconfigPath, namespace], (output) =>
    output.includes('synced'),
  );
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

try {
  await fill(namespaces.without, 0);
  await fill(namespaces.with, CONFIGMAPS);
  const results: Record<string, { without: number[]; with: number[] }> = {
    'vmcp-backend-watcher (ConfigMaps as metadata)': { without: [], with: [] },
    'ConfigMap informer caching data (the anchor)': { without: [], with: [] },
  };
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, so that a slow moment of the machine hits both alike.
    for (const which of ['without', 'with'] as const) {
      results['vmcp-backend-watcher (ConfigMaps as metadata)']?.[which].push(
        await sidecar(namespaces[which]),
      );
      results['ConfigMap informer caching data (the anchor)']?.[which].push(
        await informer(namespaces[which]),
      );
    }
  }
  console.log(
    `\nConfigMaps: peak RSS (MB, median of ${RUNS}) in a namespace with ${WORKLOADS} MCPServers and no ConfigMaps, then with ${CONFIGMAPS} ConfigMaps of ${SIZE / 1000} KB (${((CONFIGMAPS * SIZE) / 1e6).toFixed(0)} MB of data)`,
  );
  console.log('| contender | without | with | difference |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, { without, with: withMaps }] of Object.entries(results)) {
    const a = median(without);
    const b = median(withMaps);
    console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b - a).toFixed(1)} |`);
  }
  const ours = results['vmcp-backend-watcher (ConfigMaps as metadata)'] as {
    without: number[];
    with: number[];
  };
  const difference = median(ours.with) - median(ours.without);
  console.log(
    `goal: the sidecar's difference under ${GOAL_MB} MB: ${difference < GOAL_MB ? 'met' : 'NOT met'} (${difference.toFixed(1)} MB)`,
  );
} finally {
  await client.close();
  await env.stop();
}
