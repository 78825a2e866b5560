/**
 * Change-to-client latency through the sidecar (issue 19): the sidecar's HTTP API over a
 * registry that this process changes, 20 changes 100 ms apart, and 1, 50 and 500 clients in a
 * process of their own: registry clients (a change has arrived when the client's feed yields it)
 * beside raw SSE readers of the same stream in the same run (a change has arrived when its event
 * is parsed). Goal: the client's p99 at most 1.2x the raw reader's. Then the client process's
 * CPU time per change and RSS, and the cost of importing the package.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApiServer } from '@vmcp/backend-watcher';
import { silentLogger } from '@vmcp/kube-runtime';
import { type Backend, createDynamicRegistry } from '@vmcp/registry';
import { Registry } from 'prom-client';

const CHANGES = 20;
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
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

interface Result {
  latencies: number[];
  cpuMsPerChange: number;
  rssMb: number;
}

async function run(mode: 'client' | 'raw', count: number): Promise<Result> {
  const child = spawn(
    process.execPath,
    [tsx, clientsScript, mode, url, String(count), String(CHANGES)],
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
const rows: Record<string, string>[] = [];
for (const count of SIZES) {
  const rawResult = await run('raw', count);
  const clientResult = await run('client', count);
  const rawP99 = percentile(rawResult.latencies, 99);
  const clientP99 = percentile(clientResult.latencies, 99);
  rows.push({
    clients: String(count),
    'raw SSE p50': ms(percentile(rawResult.latencies, 50)),
    'raw SSE p99': ms(rawP99),
    'client p50': ms(percentile(clientResult.latencies, 50)),
    'client p99': ms(clientP99),
    'p99 ratio': `${(clientP99 / rawP99).toFixed(2)}x ${clientP99 <= 1.2 * rawP99 ? '(goal met)' : '(goal missed)'}`,
    'client CPU/change': ms(clientResult.cpuMsPerChange),
    'raw CPU/change': ms(rawResult.cpuMsPerChange),
    'client RSS': `${clientResult.rssMb.toFixed(0)} MB`,
    'raw RSS': `${rawResult.rssMb.toFixed(0)} MB`,
  });
}
api.drain();
api.server.closeAllConnections();
api.server.close();

console.log(
  `\nregistry-client: change-to-client latency through the sidecar (${BACKENDS} backends, ${CHANGES} changes 100 ms apart; CPU and RSS of the whole client process)`,
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
