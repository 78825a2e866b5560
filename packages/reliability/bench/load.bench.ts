/**
 * Load benchmark (issue 9). The sidecar holding 5000 backends (on the fake API server) under
 * wrk on loopback, ETag misses (the whole body) and hits (304), beside the same load against a
 * static body served by the same HTTP stack (node:http), the floor. Then 500 concurrent clients
 * (250 long-polls, 250 event streams) over 20 changes: per change, how long after the first
 * client the last one received it, with the long-polls accepting gzip and then identity only.
 * Goal: p99 at most 100 ms.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { startSidecar } from '@vmcp/backend-watcher';
import { startFakeApiServer } from '@vmcp/fake-apiserver';
import { KubeClient, ResourceClient } from '@vmcp/kube-runtime';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { readyServers } from '../src/fixtures.js';

const COUNT = Number(process.env.VMCP_BENCH_OBJECTS ?? 5000);
const CLIENTS = Number(process.env.VMCP_BENCH_CLIENTS ?? 500);
const CHANGES = 20;
const WRK_SECONDS = Number(process.env.VMCP_BENCH_WRK_SECONDS ?? 5);

function ensureWrk(): boolean {
  if (spawnSync('wrk', ['--version']).error === undefined) return true;
  console.log('wrk is missing; installing it from Debian (apt-get install -y wrk)');
  return spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' }).status === 0;
}

// wrk runs as a child process while this process serves: it must not block the event loop.
async function wrk(url: string, headers: Record<string, string> = {}) {
  const args = ['-t2', '-c50', `-d${WRK_SECONDS}s`, '--latency'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const { stdout: out } = await promisify(execFile)('wrk', [...args, url], { encoding: 'utf8' });
  const value = (pattern: RegExp) => out.match(pattern)?.[1] ?? '?';
  return {
    'req/s': value(/Requests\/sec:\s+([\d.]+)/),
    p50: value(/\s50%\s+([\d.]+\w+)/),
    p99: value(/\s99%\s+([\d.]+\w+)/),
    'transfer/s': value(/Transfer\/sec:\s+([\d.]+\w+)/),
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

const fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
fake.load(readyServers(COUNT));
const sidecar = await startSidecar({
  kubeConfig: fake.kubeConfig,
  namespace: 'default',
  groupRef: 'g',
  listen: '127.0.0.1:0',
});
const synced = performance.now();
await sidecar.watcher.waitForRegistrySync({ timeoutMs: 120_000 });
console.log(
  `sidecar holds ${sidecar.registry.count()} backends (synced in ${((performance.now() - synced) / 1000).toFixed(2)} s)`,
);

// The floor: the same bytes from a static node:http handler, with the same ETag logic, and the
// same bytes gzip-compressed in advance for a request that names gzip.
const body = Buffer.from(await (await fetch(`${sidecar.url}/v1/backends`)).arrayBuffer());
const gzipped = gzipSync(body);
const etag = `"${sidecar.registry.version}"`;
const floor = createServer((req, res) => {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag }).end();
    return;
  }
  const gzip = req.headers['accept-encoding']?.includes('gzip') === true;
  const bytes = gzip ? gzipped : body;
  res
    .writeHead(200, {
      'content-type': 'application/json',
      'content-length': bytes.length,
      etag,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    })
    .end(bytes);
});
await new Promise<void>((resolve) => floor.listen(0, '127.0.0.1', resolve));
const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}/v1/backends`;

if (ensureWrk()) {
  console.log(
    `\nwrk, 2 threads, 50 connections, ${WRK_SECONDS} s each; body ${(body.length / 1024).toFixed(0)} KiB, gzip ${(gzipped.length / 1024).toFixed(0)} KiB`,
  );
  console.table({
    'sidecar, ETag miss (200)': await wrk(`${sidecar.url}/v1/backends`),
    'sidecar, ETag miss, gzip': await wrk(`${sidecar.url}/v1/backends`, {
      'Accept-Encoding': 'gzip',
    }),
    'static floor, miss (200)': await wrk(floorUrl),
    'static floor, miss, gzip': await wrk(floorUrl, { 'Accept-Encoding': 'gzip' }),
    'sidecar, ETag hit (304)': await wrk(`${sidecar.url}/v1/backends`, { 'If-None-Match': etag }),
    'static floor, hit (304)': await wrk(floorUrl, { 'If-None-Match': etag }),
  });
} else {
  console.log('wrk could not be installed: the load figures are skipped');
}
floor.close();

// 500 clients in their own process (half long-poll, half event streams); 20 changes; per change,
// how long after the first client the last one had it in full. Run twice: with the long-polls
// accepting gzip, as fetch, Go's and Python's HTTP clients do by default, then identity only.
const servers = new ResourceClient(
  new KubeClient(fake.kubeConfig),
  { group: 'toolhive.stacklok.dev', version: 'v1beta1', plural: 'mcpservers', kind: 'MCPServer' },
  'default',
);
const spreadsOf = (maps: Record<string, number[]>[], from: number, expected: number) => {
  const spreads: number[] = [];
  let complete = 0;
  for (let v = from + 1; v <= from + CHANGES; v++) {
    const times = maps.flatMap((m) => m[String(v)] ?? []);
    if (times.length >= expected) complete++;
    if (times.length > 0) spreads.push(Math.max(...times) - Math.min(...times));
  }
  return { spreads, complete };
};

async function fanOut(encoding: 'gzip' | 'identity', round: number) {
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('./clients.mjs', import.meta.url)),
      sidecar.url,
      String(sidecar.registry.version),
      String(CLIENTS),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, VMCP_BENCH_ENCODING: encoding } },
  );
  let childOut = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    childOut += chunk;
  });
  const from = sidecar.registry.version;
  while (!childOut.includes('ready')) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  for (let i = 0; i < CHANGES; i++) {
    const url = `http://s${i}-changed-${round}.default.svc:8080`;
    await servers.patchStatus(`s${i}`, { status: { url } });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
  const result = JSON.parse(childOut.slice(childOut.indexOf('ready') + 6).trim()) as Record<
    'longpoll' | 'sse',
    Record<string, number[]>
  >;
  const all = spreadsOf([result.longpoll, result.sse], from, CLIENTS);
  const rows: Record<string, Record<string, string>> = {};
  for (const [name, figures] of Object.entries({
    [`all ${CLIENTS} clients`]: all,
    [`${CLIENTS / 2} long-polls (whole list, ${encoding})`]: spreadsOf(
      [result.longpoll],
      from,
      CLIENTS / 2,
    ),
    [`${CLIENTS / 2} event streams (the change)`]: spreadsOf([result.sse], from, CLIENTS / 2),
  })) {
    rows[name] = {
      'changes all received': `${figures.complete}/${CHANGES}`,
      'p50 ms': percentile(figures.spreads, 50).toFixed(1),
      'p99 ms': percentile(figures.spreads, 99).toFixed(1),
    };
  }
  console.log(
    `\n${CLIENTS} clients in their own process, ${CHANGES} changes, long-polls accepting ${encoding}: last minus first client to hold each change`,
  );
  console.table(rows);
  return { p99: percentile(all.spreads, 99), complete: all.complete === CHANGES };
}

const zipped = await fanOut('gzip', 1);
console.log(
  `goal: p99 at most 100 ms: ${zipped.p99.toFixed(1)} ms, ${zipped.p99 <= 100 && zipped.complete ? 'met' : 'NOT met'}`,
);
const plain = await fanOut('identity', 2);
console.log(
  `identity only (a client that refuses gzip): p99 ${plain.p99.toFixed(1)} ms, ${plain.p99 <= 100 && plain.complete ? 'within' : 'over'} 100 ms`,
);
await sidecar.close();
await fake.close();
