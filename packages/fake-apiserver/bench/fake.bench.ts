/**
 * Fake API server benchmark (issue 8): create, list and watch 5000 custom resources on the fake
 * server and on envtest's real kube-apiserver, in the same run, through the same client.
 * Goals: every operation faster on the fake; a list of 5000 at most 0.3x envtest's
 * `resourceVersion=0` list.
 */
import { startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient, type ResourceRef } from '@vmcp/kube-runtime';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { startFakeApiServer } from '../src/index.js';

const COUNT = Number(process.env.VMCP_BENCH_OBJECTS ?? 5000);
const ROUNDS = 3;
const MCPSERVER: ResourceRef = {
  group: 'toolhive.stacklok.dev',
  version: 'v1beta1',
  plural: 'mcpservers',
  kind: 'MCPServer',
};

async function inParallel<T>(items: T[], limit: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function measure(
  kubeConfig: import('@kubernetes/client-node').KubeConfig,
): Promise<Record<string, number>> {
  const client = new KubeClient(kubeConfig);
  const servers = new ResourceClient(client, MCPSERVER, 'default');
  const results: Record<string, number> = {};
  let started = performance.now();
  await inParallel(
    Array.from({ length: COUNT }, (_, i) => `bench-${i}`),
    32,
    async (name) => {
      await servers.create({
        apiVersion: 'toolhive.stacklok.dev/v1beta1',
        kind: 'MCPServer',
        metadata: { name, labels: { bench: 'yes' } },
        spec: {
          image: 'ghcr.io/example/fetch:1',
          transport: 'streamable-http',
          groupRef: { name: 'bench' },
        },
      } as KubeObject);
    },
  );
  results[`create ${COUNT} (32 in flight), s`] = (performance.now() - started) / 1000;
  const timed = async (run: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    return median(times);
  };
  results[`list ${COUNT}, resourceVersion=0, ms`] = await timed(() =>
    servers.listPage({ resourceVersion: '0' }),
  );
  results[`list ${COUNT}, consistent, ms`] = await timed(() => servers.listPage({}));
  results[`list ${COUNT}, pages of 500, ms`] = await timed(() => servers.list({ limit: 500 }));
  results[`watch ${COUNT} initial ADDED events, ms`] = await timed(async () => {
    const controller = new AbortController();
    const response = await client.stream(
      '/apis/toolhive.stacklok.dev/v1beta1/namespaces/default/mcpservers?watch=1&resourceVersion=0',
      controller.signal,
    );
    let seen = 0;
    for await (const chunk of response.body) {
      for (const byte of chunk) if (byte === 10) seen++;
      if (seen >= COUNT) break;
    }
    controller.abort();
  });
  started = performance.now();
  await inParallel(
    Array.from({ length: 500 }, (_, i) => `bench-${i}`),
    32,
    async (name) => {
      await servers.patch(name, { metadata: { labels: { patched: 'yes' } } });
    },
  );
  results['500 patches (32 in flight), ms'] = performance.now() - started;
  await client.close();
  return results;
}

const fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
const fakeResults = await measure(fake.kubeConfig);
await fake.close();
const env = await startEnv();
let envResults: Record<string, number>;
try {
  envResults = await measure(env.kubeConfig);
} finally {
  await env.stop();
}

const rows = Object.keys(fakeResults).map((name) => {
  const f = fakeResults[name] as number;
  const e = envResults[name] as number;
  return {
    operation: name,
    fake: f.toFixed(1),
    envtest: e.toFixed(1),
    ratio: `${(f / e).toFixed(2)}x`,
  };
});
console.log(
  `\nFake API server vs envtest (kube-apiserver 1.20 + etcd), ${COUNT} MCPServers, median of ${ROUNDS} for reads`,
);
console.table(rows);
const listRatio =
  (fakeResults[`list ${COUNT}, resourceVersion=0, ms`] as number) /
  (envResults[`list ${COUNT}, resourceVersion=0, ms`] as number);
const allFaster = rows.every((r) => Number.parseFloat(r.ratio) < 1);
console.log(`goal: every operation faster than envtest: ${allFaster ? 'met' : 'NOT met'}`);
console.log(
  `goal: list of ${COUNT} at most 0.3x envtest's resourceVersion=0 list: ${listRatio.toFixed(2)}x, ${listRatio <= 0.3 ? 'met' : 'NOT met'}`,
);
