/**
 * The built sidecar binary against generated hostile input on its port (issue 23): whatever a
 * client sends, the process stays up, answers every response with a well-formed status line below
 * 500, `/healthz` stays 200 and `/v1/backends` unchanged; and connections that trickle their
 * header fields are closed at the server's `headersTimeout` while `/healthz` keeps answering.
 * `VMCP_HTTP_SEED` replays a run, `VMCP_HTTP_CASES` sets the number of cases (default 500).
 */
import { connect } from 'node:net';
import { SERVER_LIMITS } from '@vmcp/backend-watcher';
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import { CliProcess, eventually } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterArgs, readyServers, SIDECAR_CLI } from '../src/fixtures.js';
import { type HostileCase, hostileCase } from '../src/hostile-http.js';
import { type RawAnswer, rawExchange } from '../src/raw-exchange.js';
import { HttpRunStats, seedFromEnv } from '../src/report.js';

const CASES = Number(process.env.VMCP_HTTP_CASES ?? 500);
const SEED = seedFromEnv('VMCP_HTTP_SEED');
const BACKENDS = 20;

let fake: FakeApiServer;
let sidecar: CliProcess;
let url: string;
let port: number;
let baseline: string;

beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  fake.load(readyServers(BACKENDS));
  sidecar = new CliProcess(
    [...clusterArgs(fake.kubeconfigPath), '--listen', '127.0.0.1:0'],
    {},
    {
      cli: SIDECAR_CLI,
    },
  );
  url = String((await sidecar.waitForLog('serving')).url);
  port = Number(new URL(url).port);
  baseline = await eventually(async () => {
    const response = await fetch(`${url}/v1/backends`);
    const body = (await response.json()) as { backends: unknown[] };
    expect(body.backends).toHaveLength(BACKENDS);
    return JSON.stringify(body);
  });
});
afterAll(async () => {
  sidecar?.kill('SIGTERM');
  await sidecar?.exited;
  await fake?.close();
});

/** The property checked after every case. */
async function stillServes(answer: RawAnswer, sent: HostileCase): Promise<void> {
  const what = `case ${sent.kind} of ${sent.bytes.length} bytes: ${JSON.stringify(sent.bytes.toString('latin1').slice(0, 300))}`;
  expect(answer.malformedStatusLines, what).toEqual([]);
  for (const status of answer.statuses) expect(status, what).toBeLessThan(500);
  const health = await fetch(`${url}/healthz`).catch(async (error: unknown) => {
    // Most likely the process is gone: say so, with its last words.
    const exit = await Promise.race([
      sidecar.exited,
      new Promise((resolve) => setTimeout(resolve, 2_000, undefined)),
    ]);
    const how = exit ? `exited (${JSON.stringify(exit)}): ${sidecar.stderr}` : 'still runs';
    throw new Error(`${what}\n/healthz failed (${String(error)}); the sidecar ${how}`);
  });
  expect(health.status, what).toBe(200);
  const list = (await (await fetch(`${url}/v1/backends`)).json()) as object;
  expect(JSON.stringify(list), what).toBe(baseline);
}

describe('the built sidecar under generated hostile input', () => {
  it('stays up, answers below 500, and keeps /healthz and /v1/backends as they were', async () => {
    const stats = new HttpRunStats(SEED, CASES);
    await fc.assert(
      fc.asyncProperty(hostileCase, async (sent) => {
        const answer = await rawExchange(port, sent.bytes, sent.splits, {
          idleMs: 300,
          firstByteMs: 3_000,
        });
        stats.add(sent, answer);
        await stillServes(answer, sent);
      }),
      // No shrinking: once a case killed the process, every smaller one fails as well.
      { seed: SEED, numRuns: CASES, endOnFailure: true },
    );
    console.log(stats.format());
    // The generator reaches every class it claims (so the property is really exercised).
    expect(stats.missingClasses()).toEqual([]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('# TYPE vmcp_http_request_errors_total counter');
    expect(metrics).not.toMatch(/^vmcp_http_request_errors_total\{/m);
    expect(sidecar.logs().filter((line) => line.msg === 'HTTP server error')).toEqual([]);
  });
});

/** A connection that sends header bytes one at a time and never ends them. */
function trickle(everyMs: number) {
  const state = { received: '', closedAfterMs: undefined as number | undefined };
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    state.received += chunk;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearInterval(timer);
    state.closedAfterMs = performance.now() - started;
  });
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  const timer = setInterval(() => socket.write('a'), everyMs);
  return { state, socket };
}

describe('slow-header connections', () => {
  it('are closed with 408 at headersTimeout while /healthz keeps answering', async () => {
    const slow = Array.from({ length: 20 }, () => trickle(250));
    const answers: number[] = [];
    try {
      // Ceiling: the timeout, the server's check interval, and room for a busy machine.
      await eventually(
        async () => {
          answers.push((await fetch(`${url}/healthz`)).status);
          return slow.every(({ state }) => state.closedAfterMs !== undefined);
        },
        {
          timeoutMs: SERVER_LIMITS.headersTimeoutMs + 30_000,
          intervalMs: 250,
          what: 'the slow connections closed',
        },
      );
    } finally {
      for (const { socket } of slow) socket.destroy();
    }
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.every((status) => status === 200)).toBe(true);
    for (const { state } of slow) {
      expect(state.received).toMatch(/^HTTP\/1\.1 408 /);
      // Node's timers never fire early: a connection is closed after the timeout, not before.
      expect(state.closedAfterMs).toBeGreaterThanOrEqual(SERVER_LIMITS.headersTimeoutMs);
    }
    console.log(
      `slow-header connections: ${slow.length} closed with 408 after ${Math.min(...slow.map((s) => s.state.closedAfterMs ?? 0)).toFixed(0)} to ${Math.max(...slow.map((s) => s.state.closedAfterMs ?? 0)).toFixed(0)} ms (headersTimeout ${SERVER_LIMITS.headersTimeoutMs} ms, checked every ${SERVER_LIMITS.checkIntervalMs} ms); /healthz answered 200 ${answers.length} times meanwhile`,
    );
  });
});
