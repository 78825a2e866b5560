import { connect, type Socket } from 'node:net';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { createDynamicRegistry } from '@vmcp/registry';
import { eventually } from '@vmcp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { backend, type Harness, startApi } from './support/api.js';
import { SseClient } from './support/sse.js';

let h: Harness | undefined;
const sockets: Socket[] = [];
const clients: SseClient[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const client of clients.splice(0)) client.close();
  await h?.close();
  h = undefined;
});

const metric = async (server: Harness, line: RegExp) =>
  (await server.metrics.metrics()).match(line);

describe('the cap on long-polls and event streams', () => {
  it('refuses more than --max-streams with 503 and Retry-After, counting each refusal', async () => {
    const server = await startApi({ maxStreams: 2 });
    h = server;
    const stream = await SseClient.connect(`${server.url}/v1/events`);
    clients.push(stream);
    await stream.waitFor(1);
    const poll = fetch(`${server.url}/v1/backends?watch=0&timeoutSeconds=60`);
    await eventually(async () =>
      Boolean(await metric(server, /open_streams\{kind="longpoll"\} 1/)),
    );

    const refused = await fetch(`${server.url}/v1/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /too many long-polls and event streams open \(2\)/,
    );
    expect((await fetch(`${server.url}/v1/backends?watch=0`)).status).toBe(503);
    // Everything else is served as before.
    expect((await fetch(`${server.url}/v1/backends`)).status).toBe(200);
    const text = await server.metrics.metrics();
    expect(text).toMatch(/^vmcp_http_max_streams 2$/m);
    expect(text).toMatch(/^vmcp_http_streams_refused_total\{kind="events"\} 1$/m);
    expect(text).toMatch(/^vmcp_http_streams_refused_total\{kind="longpoll"\} 1$/m);

    // A slot freed is a slot taken again.
    server.registry.upsert(backend('a'));
    expect((await poll).status).toBe(200);
    const next = await SseClient.connect(`${server.url}/v1/events`);
    clients.push(next);
    expect((await next.waitFor(1))[0]?.event).toBe('snapshot');
  });

  it('refuses a maxStreams that is not a whole number from 1 to 100,000', async () => {
    for (const maxStreams of [0, 1.5, 100_001, Number.NaN]) {
      await expect(startApi({ maxStreams })).rejects.toThrow(RangeError);
    }
  });
});

describe('a stream whose client reads nothing', () => {
  it('is dropped after the slow-client timeout on the clock, with no change arriving', async () => {
    // About 8 MB of content: more than loopback's socket buffers take, so the snapshot backs up.
    const registry = createDynamicRegistry(
      Array.from({ length: 2000 }, (_, i) =>
        backend(`b${i}`, { metadata: { namespace: 'tools', filler: 'x'.repeat(4000) } }),
      ),
    );
    const clock = new FakeClock();
    const server = await startApi({
      registry,
      clock,
      slowClientTimeoutMs: 30_000,
      heartbeatMs: 60_000,
    });
    h = server;
    const stuck = connect(server.port, '127.0.0.1');
    sockets.push(stuck);
    stuck.pause();
    stuck.write('GET /v1/events HTTP/1.1\r\nhost: x\r\n\r\n');
    // The drop timer is set once the snapshot fills the buffers.
    await eventually(() => clock.timersDueIn().includes(30_000), { what: 'the slow-client timer' });
    expect(await metric(server, /open_streams\{kind="events"\} 1/)).not.toBeNull();
    clock.advance(29_999);
    expect(await metric(server, /open_streams\{kind="events"\} 1/)).not.toBeNull();
    clock.advance(1);
    await eventually(async () => Boolean(await metric(server, /open_streams\{kind="events"\} 0/)));
    expect(await metric(server, /^vmcp_http_slow_streams_dropped_total 1$/m)).not.toBeNull();
    expect(server.registry.version).toBe(0);
    // The others are served as before.
    const reader = await SseClient.connect(`${server.url}/v1/events`);
    clients.push(reader);
    expect((await reader.waitFor(1))[0]?.id).toBe('0');
  });
});
