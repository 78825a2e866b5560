/**
 * One Node contender of the watch benchmark, in its own process so that its peak RSS is its own.
 * argv: <contender> <kubeconfig or sidecar URL> <expected objects> <namespace>
 * Prints JSON lines: {"synced": true} once it holds every object (the parent times it from the
 * spawn), then, on stdin "report", {"latencies": [...ms], "maxRssMb": n, "youngMb": n,
 * "liveMb": n, "cpuUsPerEvent": n} where each latency is receive time minus the send time the
 * parent wrote into the `bench/ts` annotation (epoch ms, as the client-go anchor reads it).
 *
 * `events` is not a contender but the sidecar's client: it follows the sidecar's event stream
 * (`/v1/events`) and reports the latency of each change to an upserted backend as a vMCP server
 * would see it; the sidecar's own RSS and CPU are read by the parent from /proc.
 */
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics } from 'node:v8';

// Each contender imports only what it uses, so that its peak RSS is what a program built on it
// would pay. Our packages come through their exports: the built dist/ (the bench builds first).

const [contender, target, expectedText, namespace = 'default'] = process.argv.slice(2);
const expected = Number(expectedText);
const latencies: number[] = [];
let synced = false;
// CPU time from the sync to the report: what handling the patches costs (garbage collection
// included), per event.
let cpuAtSync: NodeJS.CpuUsage | undefined;
const markSynced = () => {
  if (synced) return;
  synced = true;
  cpuAtSync = process.cpuUsage();
  console.log(JSON.stringify({ synced: true }));
};
const sentAt = (annotations: Record<string, string> | undefined) =>
  Number(annotations?.['bench/ts']);
const observe = (object: { metadata?: { annotations?: Record<string, string> } } | undefined) => {
  const sent = sentAt(object?.metadata?.annotations);
  if (synced && sent > 0) latencies.push(Date.now() - sent);
};
const path = `/apis/toolhive.stacklok.dev/v1beta1/namespaces/${namespace}/mcpservers`;

/** client-node's KubeConfig: the whole package for its own contender, else the slim load. */
async function loadKubeConfig() {
  const KubeConfig =
    contender === 'client-node'
      ? (await import('@kubernetes/client-node')).KubeConfig
      : await (await import('@vmcp/kube-runtime')).importKubeConfig();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(target as string);
  return kubeConfig;
}

/** The floor: one HTTPS watch (every object replayed as ADDED), split lines, JSON.parse. */
async function bare() {
  const kubeConfig = await loadKubeConfig();
  const options = {};
  await kubeConfig.applyToHTTPSOptions(options);
  let count = 0;
  let buffer = '';
  request(
    new URL(`${path}?watch=true&allowWatchBookmarks=true`, kubeConfig.getCurrentCluster()?.server),
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
}

async function clientNode() {
  const kubeConfig = await loadKubeConfig();
  const { CustomObjectsApi, makeInformer } = await import('@kubernetes/client-node');
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const informer = makeInformer(
    kubeConfig,
    path,
    () =>
      api.listNamespacedCustomObject({
        group: 'toolhive.stacklok.dev',
        version: 'v1beta1',
        namespace,
        plural: 'mcpservers',
      }) as never,
  );
  informer.on('update', (object) => observe(object as never));
  informer.on('add', () => {
    if (informer.list().length === expected) markSynced();
  });
  await informer.start();
  if (informer.list().length === expected) markSynced();
}

async function kubeRuntime() {
  const kubeConfig = await loadKubeConfig();
  const { createInformer } = await import('@vmcp/kube-runtime');
  const informer = createInformer({
    kubeConfig,
    resource: {
      group: 'toolhive.stacklok.dev',
      version: 'v1beta1',
      plural: 'mcpservers',
      kind: 'MCPServer',
    },
    namespace,
  });
  informer.addEventHandler({ onUpdate: (_old, object) => observe(object as never) });
  void informer.run(new AbortController().signal);
  await informer.waitForSync();
  markSynced();
}

async function backendWatcher() {
  const kubeConfig = await loadKubeConfig();
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
    namespace,
    groupRef: 'bench',
    registry,
    ...(metricsRegistry ? { metricsRegistry } : {}),
  });
  void watcher.start(new AbortController().signal);
  await watcher.waitForCacheSync({ timeoutMs: 300_000 });
  while (registry.count() < expected)
    await registry.waitForChange(registry.version, { timeoutMs: 1000 });
  markSynced();
  void (async () => {
    for await (const change of registry.changes()) {
      for (const backend of change.upserted) {
        const sent = Number(backend.metadata['bench/ts']);
        if (sent > 0) latencies.push(Date.now() - sent);
      }
    }
  })();
}

/**
 * The sidecar's client: `/v1/events` as Server-Sent Events. "synced" once the snapshot arrived;
 * then each `change` event's upserted backends give one latency each.
 */
function events() {
  let buffer = '';
  httpRequest(new URL('/v1/events', target), (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const type = /^event: (\w+)$/m.exec(event)?.[1];
        if (type === 'snapshot') markSynced();
        if (type !== 'change') continue;
        const data = /^data: (.*)$/m.exec(event)?.[1] as string;
        const { upserted } = JSON.parse(data) as {
          upserted: { metadata?: Record<string, string> }[];
        };
        const now = Date.now();
        for (const backend of upserted) {
          const sent = sentAt(backend.metadata);
          if (sent > 0) latencies.push(now - sent);
        }
      }
    });
  }).end();
}

const contenders: Record<string, () => Promise<void> | void> = {
  bare,
  'client-node': clientNode,
  'kube-runtime': kubeRuntime,
  'backend-watcher': backendWatcher,
  'backend-watcher+metrics': backendWatcher,
  events,
};
const run = contenders[contender as string];
if (run === undefined) throw new Error(`unknown contender ${contender}`);
await run();

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
