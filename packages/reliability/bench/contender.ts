/**
 * One contender of the watch benchmark, in its own process so that its peak RSS is its own.
 * argv: <contender> <kubeconfig> <expected objects>
 * Prints JSON lines: {"synced": ms} once it holds every object, then, on stdin "report",
 * {"latencies": [...ms], "maxRssMb": n, "youngMb": n, "liveMb": n, "cpuUsPerEvent": n} where each
 * latency is receive time minus the send time the parent wrote into the `bench/sent` annotation.
 */
import { request } from 'node:https';
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics } from 'node:v8';

// Each contender imports only what it uses, so that its peak RSS is what a program built on it
// would pay. Our packages come through their exports: the built dist/ (the bench builds first).

const [contender, kubeconfigPath, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);
// client-node's contender uses the whole package (makeInformer needs its API clients); the
// others load its KubeConfig the way @vmcp/kube-runtime recommends, without the generated models.
const KubeConfig =
  contender === 'client-node'
    ? (await import('@kubernetes/client-node')).KubeConfig
    : await (await import('@vmcp/kube-runtime')).importKubeConfig();
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath as string);
const started = performance.now();
const latencies: number[] = [];
let synced = false;
// CPU time from the sync to the report: what handling the patches costs (garbage collection
// included), per event.
let cpuAtSync: NodeJS.CpuUsage | undefined;
const markSynced = () => {
  if (synced) return;
  synced = true;
  cpuAtSync = process.cpuUsage();
  console.log(JSON.stringify({ synced: performance.now() - started }));
};
const observe = (object: { metadata?: { annotations?: Record<string, string> } } | undefined) => {
  const sent = Number(object?.metadata?.annotations?.['bench/sent']);
  if (synced && sent > 0) latencies.push(Date.now() - sent);
};
const path = '/apis/toolhive.stacklok.dev/v1beta1/namespaces/default/mcpservers';

if (contender === 'bare') {
  // The floor: one HTTPS watch without a resourceVersion (the server replays every object as
  // ADDED, then streams changes), split into lines, JSON.parse.
  const options = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const cluster = kubeConfig.getCurrentCluster();
  let count = 0;
  let buffer = '';
  request(
    new URL(`${path}?watch=true&allowWatchBookmarks=true`, cluster?.server),
    options,
    (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const event = JSON.parse(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          if (event.type === 'ADDED' && ++count === expected) markSynced();
          else if (event.type === 'MODIFIED') observe(event.object);
          newline = buffer.indexOf('\n');
        }
      });
    },
  ).end();
} else if (contender === 'client-node') {
  const { CustomObjectsApi, makeInformer } = await import('@kubernetes/client-node');
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const informer = makeInformer(
    kubeConfig,
    path,
    () =>
      api.listNamespacedCustomObject({
        group: 'toolhive.stacklok.dev',
        version: 'v1beta1',
        namespace: 'default',
        plural: 'mcpservers',
      }) as never,
  );
  informer.on('update', (object) => observe(object as never));
  informer.on('add', () => {
    if (informer.list().length === expected) markSynced();
  });
  await informer.start();
  if (informer.list().length === expected) markSynced();
} else if (contender === 'kube-runtime') {
  const { createInformer } = await import('@vmcp/kube-runtime');
  const informer = createInformer({
    kubeConfig,
    resource: {
      group: 'toolhive.stacklok.dev',
      version: 'v1beta1',
      plural: 'mcpservers',
      kind: 'MCPServer',
    },
    namespace: 'default',
  });
  informer.addEventHandler({ onUpdate: (_old, object) => observe(object as never) });
  void informer.run(new AbortController().signal);
  await informer.waitForSync();
  markSynced();
} else if (contender === 'backend-watcher' || contender === 'backend-watcher+metrics') {
  const { BackendWatcher } = await import('@vmcp/reconciler');
  const { createDynamicRegistry } = await import('@vmcp/registry');
  const registry = createDynamicRegistry();
  // With a metrics registry, as the sidecar runs it; without one, prom-client is never loaded.
  const metricsRegistry =
    contender === 'backend-watcher+metrics'
      ? new (await import('prom-client')).Registry()
      : undefined;
  const watcher = new BackendWatcher({
    kubeConfig,
    namespace: 'default',
    groupRef: 'bench',
    registry,
    ...(metricsRegistry ? { metricsRegistry } : {}),
  });
  void watcher.start(new AbortController().signal);
  await watcher.waitForCacheSync({ timeoutMs: 120_000 });
  while (registry.count() < expected)
    await registry.waitForChange(registry.version, { timeoutMs: 1000 });
  markSynced();
  void (async () => {
    for await (const change of registry.changes()) {
      for (const backend of change.upserted) {
        const sent = Number(backend.metadata['bench/sent']);
        if (sent > 0) latencies.push(Date.now() - sent);
      }
    }
  })();
} else {
  throw new Error(`unknown contender ${contender}`);
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'report') {
    // The young generation's size explains most of the differences in peak RSS: V8 enlarges it
    // while objects keep surviving scavenges and the allocation rate stays above ~1 MB/s.
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    const maxRssMb = process.resourceUsage().maxRSS / 1024;
    const cpu = process.cpuUsage(cpuAtSync);
    // What the program holds, apart from how V8 sizes the heap around it: the heap in use after a
    // full collection (the parent passes --expose-gc, which changes no heap sizing).
    (globalThis as { gc?: () => void }).gc?.();
    console.log(
      JSON.stringify({
        latencies,
        maxRssMb,
        youngMb: (young?.space_size ?? Number.NaN) / 2 ** 20,
        liveMb: process.memoryUsage().heapUsed / 2 ** 20,
        cpuUsPerEvent: (cpu.user + cpu.system) / Math.max(1, latencies.length),
      }),
    );
    process.exit(0);
  }
}
