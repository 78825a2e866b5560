/**
 * Stuck event streams benchmark (issue 23, point 4). The built sidecar holds 1,200 backends
 * (about 5 MB of list); 100 clients open `/v1/events` and never read a byte; the registry stays
 * quiet for 10 minutes (`VMCP_BENCH_QUIET_SECONDS`), then changes. The sidecar's RSS is sampled
 * every 250 ms throughout: its peak is printed beside its idle RSS (after sync, before the
 * streams) and a stated bound, with when every stuck stream was dropped. Before the fix one stream
 * kept its own copy of the snapshot and a growing heartbeat queue while the registry was quiet, and
 * the slow-client drop ran only when a change was written: 137 MB went to 640 MB within 60 s, with
 * all 100 streams still held.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { startFakeApiServer } from '@vmcp/fake-apiserver';
import { KubeClient, ResourceClient } from '@vmcp/kube-runtime';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { clusterArgs, readyServers, SIDECAR_CLI } from '../src/fixtures.js';
import { RssSampler, readRss } from './rss.js';

const BACKENDS = Number(process.env.VMCP_BENCH_BACKENDS ?? 1200);
const STREAMS = Number(process.env.VMCP_BENCH_STREAMS ?? 100);
const QUIET_SECONDS = Number(process.env.VMCP_BENCH_QUIET_SECONDS ?? 600);
const CHANGES = 20;
/** Each backend carries one annotation of this size: 1,200 of them make a list of about 5 MB. */
const ANNOTATION_BYTES = 4_000;
/**
 * The bound: the peak may exceed the idle RSS by at most this much. A stuck stream may hold only
 * shared buffers (the version's one list body) and what one event references, for at most the
 * slow-client timeout (30 s); the rest is serialising the list and the gzip body once (about
 * three times its 5 MB) and Node's own buffers. 64 MB is a quarter of the Deployment's 256 MiB.
 */
const BOUND_MB = 64;

const fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
fake.load(
  readyServers(BACKENDS, (i) => ({
    'example.com/description': `${i} `.padEnd(ANNOTATION_BYTES, 'x'),
  })),
);
const sidecar = spawn(
  process.execPath,
  [SIDECAR_CLI, ...clusterArgs(fake.kubeconfigPath), '--listen', '127.0.0.1:0'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let output = '';
sidecar.stdout.setEncoding('utf8').on('data', (chunk: string) => {
  output += chunk;
});
const exited = new Promise((resolve) => sidecar.once('exit', resolve));
const pid = sidecar.pid as number;
const sockets: Socket[] = [];
try {
  const url = await servingUrl();
  const listBytes = await waitForAll(url);
  await sleep(3_000);
  const idle = readRss(pid);
  console.log(
    `sidecar serves ${BACKENDS} backends: a list of ${(listBytes / 1e6).toFixed(1)} MB; idle RSS ${idle.rssMb.toFixed(1)} MB (peak so far ${idle.peakMb.toFixed(1)} MB, the sync)`,
  );

  const sampler = new RssSampler(pid);
  const { port } = new URL(url);
  for (let i = 0; i < STREAMS; i++) {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.pause();
    socket.write('GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n');
    sockets.push(socket);
  }
  const opened = performance.now();
  console.log(`${STREAMS} event streams opened that never read; ${QUIET_SECONDS} s of quiet`);
  let allDroppedAfter: number | undefined;
  const quietEnds = opened + QUIET_SECONDS * 1000;
  while (performance.now() < quietEnds) {
    await sleep(Math.min(5_000, quietEnds - performance.now()));
    const figures = await streamFigures(url);
    if (allDroppedAfter === undefined && figures.open === 0 && figures.dropped >= STREAMS) {
      allDroppedAfter = (performance.now() - opened) / 1000;
    }
  }
  const afterQuiet = await streamFigures(url);
  const servers = new ResourceClient(
    new KubeClient(fake.kubeConfig),
    { group: 'toolhive.stacklok.dev', version: 'v1beta1', plural: 'mcpservers', kind: 'MCPServer' },
    'default',
  );
  for (let i = 0; i < CHANGES; i++) {
    await servers.patchStatus(`s${i}`, { status: { url: `http://s${i}-moved.default.svc:8080` } });
    await sleep(250);
  }
  await sleep(5_000);
  const peak = sampler.stop();
  const afterChanges = await streamFigures(url);
  const stuckEnded = await Promise.all(sockets.map(endsWhenRead));

  const growth = peak - idle.rssMb;
  console.log('\n| figure | value |');
  console.log('| --- | ---: |');
  console.log(`| idle RSS (after sync, no stream) | ${idle.rssMb.toFixed(1)} MB |`);
  console.log(
    `| peak RSS with ${STREAMS} stuck streams, quiet then ${CHANGES} changes | ${peak.toFixed(1)} MB |`,
  );
  console.log(`| growth (bound ${BOUND_MB} MB) | ${growth.toFixed(1)} MB |`);
  console.log(
    `| stuck streams dropped by the server | ${afterQuiet.dropped} of ${STREAMS} during the quiet (all after ${allDroppedAfter?.toFixed(0) ?? 'never'} s); open after the quiet ${afterQuiet.open}, after the changes ${afterChanges.open} |`,
  );
  console.log(
    `| stuck connections the client then found ended | ${stuckEnded.filter(Boolean).length} of ${STREAMS} |`,
  );
  const met = growth <= BOUND_MB && afterQuiet.open === 0 && afterQuiet.dropped >= STREAMS;
  console.log(
    `goal: RSS within idle + ${BOUND_MB} MB and every stuck stream dropped without a change: ${met ? 'met' : 'NOT met'}`,
  );
} finally {
  for (const socket of sockets) socket.destroy();
  sidecar.kill('SIGTERM');
  await exited;
  await fake.close();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The address the sidecar logged once it listens. */
async function servingUrl(): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const url = /"url":"([^"]+)"/.exec(output)?.[1];
    if (url !== undefined) return url;
    if (sidecar.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the sidecar did not start: ${output.slice(-2000)}`);
    }
    await sleep(100);
  }
}

/** Waits until the sidecar serves every backend; the list's size in bytes. */
async function waitForAll(url: string): Promise<number> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const body = await fetch(`${url}/v1/backends`, { headers: { 'accept-encoding': 'identity' } })
      .then((r) => r.text())
      .catch(() => '');
    if (
      body.length > 0 &&
      (JSON.parse(body) as { backends: unknown[] }).backends.length === BACKENDS
    ) {
      return Buffer.byteLength(body);
    }
    if (Date.now() > deadline) throw new Error('the sidecar did not serve every backend in 120 s');
    await sleep(500);
  }
}

/** Open event streams and slow clients dropped, from the sidecar's /metrics. */
async function streamFigures(url: string): Promise<{ open: number; dropped: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    open: value(/^vmcp_http_open_streams\{kind="events"\} (\d+)$/m),
    dropped: value(/^vmcp_http_slow_streams_dropped_total (\d+)$/m),
  };
}

/** Resumes reading a stuck connection: true once it ends (the server closed it), within 30 s. */
function endsWhenRead(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once('end', done);
    socket.once('close', done);
    socket.on('data', () => undefined);
    socket.resume();
  });
}
