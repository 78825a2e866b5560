/**
 * CPU per watch event on the watcher's hot path (issue 28.4): an in-process server streams
 * MODIFIED events of MCPServer-sized objects with a bookmark every tenth line, in 64 KB chunks,
 * and `runWatcher` reads them into a sink that does nothing. The figure is the process's CPU
 * time (user + system) from the first event to the last, per event: line splitting, parsing and
 * handing on, plus the loopback socket both ends share. Run several rounds; the median is
 * printed with the spread. Measured twice: as is, and with `dropBeforeParse` cutting the apply
 * metadata (`APPLY_METADATA_FIELDS`) out of each event's bytes before it is parsed, as the
 * BackendWatcher does.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import {
  APPLY_METADATA_FIELDS,
  type FieldPath,
  KubeClient,
  ResourceClient,
  runWatcher,
} from '../src/index.js';

const EVENTS = Number(process.env.VMCP_BENCH_EVENTS ?? 100_000);
const ROUNDS = Number(process.env.VMCP_BENCH_ROUNDS ?? 5);

/** An MCPServer as a watch carries it (managedFields and all), about 1.6 KB of JSON. */
function server(index: number, resourceVersion: number) {
  return {
    apiVersion: 'toolhive.stacklok.dev/v1beta1',
    kind: 'MCPServer',
    metadata: {
      name: `server-${index % 1000}`,
      namespace: 'tools',
      uid: `6f1c2a8e-0b7d-4c1e-9a53-${String(index % 1000).padStart(12, '0')}`,
      resourceVersion: String(resourceVersion),
      generation: 3,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { team: 'tools', tier: 'backend' },
      annotations: { 'example.com/owner': 'platform' },
      managedFields: [
        {
          manager: 'kubectl',
          operation: 'Apply',
          apiVersion: 'toolhive.stacklok.dev/v1beta1',
          time: '2026-01-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:image': {}, 'f:transport': {}, 'f:groupRef': {} } },
        },
      ],
    },
    spec: {
      image: 'ghcr.io/example/fetch:1.2.3',
      transport: 'streamable-http',
      groupRef: { name: 'engineering' },
      port: 8080,
      resources: { limits: { cpu: '500m', memory: '256Mi' } },
    },
    status: {
      phase: 'Running',
      url: `http://server-${index % 1000}.tools.svc.cluster.local:8080/mcp`,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  };
}

/** The stream's body: EVENTS lines, a bookmark every tenth. */
function body(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const resourceVersion = 1000 + i;
    lines.push(
      i % 10 === 9
        ? JSON.stringify({
            type: 'BOOKMARK',
            object: {
              kind: 'MCPServer',
              apiVersion: 'toolhive.stacklok.dev/v1beta1',
              metadata: { resourceVersion: String(resourceVersion) },
            },
          })
        : JSON.stringify({ type: 'MODIFIED', object: server(i, resourceVersion) }),
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

const payload = body();
const httpServer = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  res.writeHead(200, { 'content-type': 'application/json' });
  if (url.searchParams.get('watch') !== 'true') {
    res.end(JSON.stringify({ items: [], metadata: { resourceVersion: '1' } }));
    return;
  }
  for (let offset = 0; offset < payload.length; offset += 65_536) {
    res.write(payload.subarray(offset, offset + 65_536));
  }
  // Left open: the watcher is stopped once it has every event.
});
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [
    {
      name: 'c',
      server: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`,
      skipTLSVerify: true,
    },
  ],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});

/** One round: CPU microseconds per event, from the first event to the last. */
async function round(dropBeforeParse?: readonly FieldPath[]): Promise<number> {
  const client = new KubeClient(kubeConfig);
  const things = new ResourceClient(client, {
    group: 'toolhive.stacklok.dev',
    version: 'v1beta1',
    plural: 'mcpservers',
    kind: 'MCPServer',
  });
  const stop = new AbortController();
  let seen = 0;
  let started: NodeJS.CpuUsage | undefined;
  let used: NodeJS.CpuUsage | undefined;
  const options = { watchList: 'never' as const, ...(dropBeforeParse ? { dropBeforeParse } : {}) };
  await runWatcher(things, options, stop.signal, (event) => {
    if (event.type !== 'apply' && event.type !== 'bookmark') return;
    if (seen === 0) started = process.cpuUsage();
    if (++seen === EVENTS) {
      used = process.cpuUsage(started);
      stop.abort();
    }
  });
  await client.close();
  if (used === undefined) throw new Error(`only ${seen} of ${EVENTS} events arrived`);
  return (used.user + used.system) / (EVENTS - 1);
}

/** The median of ROUNDS rounds after a warm-up, printed with the spread. */
async function measure(what: string, dropBeforeParse?: readonly FieldPath[]): Promise<void> {
  const results: number[] = [];
  await round(dropBeforeParse); // warm-up: JIT and the server's first write
  for (let i = 0; i < ROUNDS; i++) results.push(await round(dropBeforeParse));
  results.sort((a, b) => a - b);
  const median = results[Math.floor(results.length / 2)] as number;
  console.log(
    `watch stream, ${what}: ${EVENTS} events (${(payload.length / EVENTS).toFixed(0)} B each, a bookmark in ten), ${ROUNDS} rounds: ` +
      `CPU ${(median * 1000).toFixed(0)} ns per event (median; ${((results[0] as number) * 1000).toFixed(0)} to ${((results.at(-1) as number) * 1000).toFixed(0)})`,
  );
}

await measure('parsed whole');
await measure('apply metadata cut before parse', APPLY_METADATA_FIELDS);
