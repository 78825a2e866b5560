/**
 * Change-to-client latency through the sidecar (issue 19): the sidecar's HTTP API over a
 * registry that this process changes, 50 changes 100 ms apart (VMCP_BENCH_CHANGES), 1, 50 and
 * 500 clients (VMCP_BENCH_CLIENT_COUNTS) in a
 * process of their own: registry clients (a change has arrived when the client's feed yields it)
 * beside raw SSE readers of the same stream in the same run (a change has arrived when its event
 * is parsed). Goal: the client's p99 at most 1.2x the raw reader's. Then the client process's
 * CPU time per change and RSS, and the cost of importing the package.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApiServer } from '@vmcp/backend-watcher';
import { silentLogger } from '@vmcp/kube-runtime';
import { type Backend, createDynamicRegistry } from '@vmcp/registry';
import { Registry } from 'prom-client';

const CHANGES = Number(process.env.VMCP_BENCH_CHANGES ?? 50);
/**
 * Rounds per client count, raw and client alternating (which goes first alternates too), so that
 * a noisy moment of the machine falls on both sides. The p99 ratio is reported per round and as
 * the median of the rounds.
 */
const ROUNDS = Number(process.env.VMCP_BENCH_ROUNDS ?? 3);
const SIZES = (process.env.VMCP_BENCH_CLIENT_COUNTS ?? '1,50,500').split(',').map(Number);
const BACKENDS = 100;

const backend = (id: string, metadata: Record<string, string> = {}): Backend => ({
  id,
  name: id,
  baseUrl: `http://${id}.tools.svc:8080/mcp`,
  transportType: 'streamable-http',
  healthStatus: 'healthy',
  metadata: { namespace: 'tools', ...metadata },
});

const registry = createDynamicRegistry(
  Array.from({ length: BACKENDS }, (_, i) => backend(`b${String(i).padStart(3, '0')}`)),
  { initialVersion: Date.now() * 1000 },
);
const api = createApiServer({
  registry,
  alive: () => true,
  ready: () => true,
  metricsRegistry: new Registry(),
  logger: silentLogger,
});
await new Promise<void>((resolve) => api.server.listen({ host: '127.0.0.1', port: 0 }, resolve));
const url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
const clientsScript = fileURLToPath(new URL('./clients.ts', import.meta.url));
// tsx as a loader in the clients' own process (its CLI would start a second node between them).
const tsx = import.meta.resolve('tsx');

interface Result {
  latencies: number[];
  cpuMsPerChange: number;
  rssMb: number;
}

async function run(mode: 'client' | 'raw', count: number): Promise<Result> {
  const child = spawn(
    process.execPath,
    ['--import', tsx, clientsScript, mode, url, String(count), String(CHANGES)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text;
    if (out.includes('ready\n')) ready();
  });
  // 'close', not 'exit': the child's output may still be arriving when it has exited.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await isReady;
  for (let i = 0; i < CHANGES; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    registry.upsert(backend('bench', { t: String(performance.timeOrigin + performance.now()) }));
  }
  await exited;
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`${mode} x${count}: no result`);
  return JSON.parse(line) as Result;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;
const median = (values: number[]): number => percentile(values, 50);
const rows: Record<string, string>[] = [];
for (const count of SIZES) {
  const raws: Result[] = [];
  const clients: Result[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['raw', 'client'] as const) : (['client', 'raw'] as const);
    const results = {
      raw: undefined as Result | undefined,
      client: undefined as Result | undefined,
    };
    for (const mode of order) results[mode] = await run(mode, count);
    const [rawResult, clientResult] = [results.raw as Result, results.client as Result];
    raws.push(rawResult);
    clients.push(clientResult);
    ratios.push(percentile(clientResult.latencies, 99) / percentile(rawResult.latencies, 99));
  }
  const all = (results: Result[]): number[] => results.flatMap((r) => r.latencies);
  const ratio = median(ratios);
  rows.push({
    clients: String(count),
    'raw SSE p50': ms(percentile(all(raws), 50)),
    'raw SSE p99': ms(percentile(all(raws), 99)),
    'client p50': ms(percentile(all(clients), 50)),
    'client p99': ms(percentile(all(clients), 99)),
    'p99 ratio, median of rounds': `${ratio.toFixed(2)}x ${ratio <= 1.2 ? '(goal met)' : '(goal missed)'}`,
    'ratio per round': ratios.map((r) => r.toFixed(2)).join(' '),
    'client CPU/change': ms(median(clients.map((r) => r.cpuMsPerChange))),
    'raw CPU/change': ms(median(raws.map((r) => r.cpuMsPerChange))),
    'client RSS': `${median(clients.map((r) => r.rssMb)).toFixed(0)} MB`,
    'raw RSS': `${median(raws.map((r) => r.rssMb)).toFixed(0)} MB`,
  });
}
api.drain();
api.server.closeAllConnections();
api.server.close();

console.log(
  `\nregistry-client: change-to-client latency through the sidecar (${BACKENDS} backends, ${CHANGES} changes 100 ms apart, ${ROUNDS} rounds; p50/p99 over all rounds; CPU and RSS of the whole client process, median of rounds)`,
);
console.table(rows);

// Import cost, in fresh processes: bare node, then node importing the built package.
const probe = (code: string): { ms: number; rssMb: number } =>
  JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    }),
  );
const measure = (body: string): string =>
  `const t = performance.now(); ${body}; console.log(JSON.stringify({ ms: performance.now() - t, rssMb: process.memoryUsage().rss / 2 ** 20 }));`;
const bare = probe(measure('await Promise.resolve()'));
const imported = probe(measure("await import('@vmcp/registry-client')"));
const connected = probe(
  measure(
    "const { connectRegistry } = await import('@vmcp/registry-client'); const c = connectRegistry({ url: 'http://127.0.0.1:9' }); await c.close()",
  ),
);
console.log('\nimport cost (fresh processes, built package):');
console.table([
  { what: 'bare node', time: ms(bare.ms), RSS: `${bare.rssMb.toFixed(1)} MB` },
  {
    what: "import('@vmcp/registry-client')",
    time: ms(imported.ms),
    RSS: `${imported.rssMb.toFixed(1)} MB`,
  },
  {
    what: 'import + connectRegistry + close',
    time: ms(connected.ms),
    RSS: `${connected.rssMb.toFixed(1)} MB`,
  },
]);
