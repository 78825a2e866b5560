import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type Backend,
  createDynamicRegistry,
  type DynamicRegistry,
  REDACTED,
  redactBackend,
} from '@vmcp/registry';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acceptsGzip } from '../src/http.js';
import { restartSafeVersion } from '../src/sidecar.js';
import { backend, type Harness, startApi } from './support/api.js';
import { SseClient } from './support/sse.js';

// Counts compressions (the real gzipSync does the work).
vi.mock('node:zlib', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:zlib')>();
  return { ...actual, gzipSync: vi.fn(actual.gzipSync) };
});

type ErrorBody = { error: { status: number; message: string } };

const SECRET = 'planted-secret-7f3a9c';
const TOKEN = 'the-api-token';

const withSecret = (id: string): Backend =>
  backend(id, {
    authConfig: { type: 'header_injection', headerName: 'X-Api-Key', headerValue: SECRET },
  });

/** {@link startApi} with a token, a slow-client timeout and a registry of the test's. */
const start = (apiToken?: string, slowClientTimeoutMs?: number, registry?: DynamicRegistry) =>
  startApi({
    apiToken,
    ...(slowClientTimeoutMs !== undefined ? { slowClientTimeoutMs } : {}),
    ...(registry !== undefined ? { registry } : {}),
  });

let h: Harness;
const open: SseClient[] = [];
beforeEach(async () => {
  h = await start(TOKEN);
});
afterEach(async () => {
  for (const client of open.splice(0)) client.close();
  h.api.drain();
  h.api.server.closeAllConnections();
  await new Promise((resolve) => h.api.server.close(resolve));
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${h.url}${path}`, { headers });
const bearer = { authorization: `Bearer ${TOKEN}` };

/** A GET whose body is not decoded (fetch would hide the content coding). */
function raw(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(`${h.url}${path}`, { headers, method }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
        }),
      );
    }).on('error', reject);
  });
}

describe('health and readiness', () => {
  it('answers /readyz 503 until the caches synced, then 200', async () => {
    h.state.ready = false;
    const before = await get('/readyz');
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ status: 'registry not synced' });
    h.state.ready = true;
    expect((await get('/readyz')).status).toBe(200);
  });

  it('names the initial names still undecided, before and after it turned ready, at most 100', async () => {
    h.state.ready = false;
    h.state.pending = ['github', 'wiki'];
    const waiting = await get('/readyz');
    expect(waiting.status).toBe(503);
    expect(await waiting.json()).toEqual({
      status: 'registry not synced',
      pending: ['github', 'wiki'],
      pendingCount: 2,
    });
    h.state.ready = true;
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      pending: ['github', 'wiki'],
      pendingCount: 2,
    });
    h.state.pending = Array.from({ length: 150 }, (_, i) => `n${String(i).padStart(3, '0')}`);
    const many = (await (await get('/readyz')).json()) as {
      pending: string[];
      pendingCount: number;
    };
    expect(many.pending).toHaveLength(100);
    expect(many.pendingCount).toBe(150);
    h.state.pending = [];
    expect(await (await get('/readyz')).json()).toEqual({ status: 'ready' });
  });

  it('answers /healthz 200 while the watch loops live and 503 once they stopped', async () => {
    expect((await get('/healthz')).status).toBe(200);
    h.state.alive = false;
    expect((await get('/healthz')).status).toBe(503);
  });

  it('serves Prometheus text with the registry size and version', async () => {
    h.registry.apply([
      { op: 'upsert', backend: backend('a') },
      { op: 'upsert', backend: backend('b') },
    ]);
    const response = await get('/metrics');
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/^vmcp_registry_backends 2$/m);
    expect(text).toMatch(/^vmcp_registry_version 1$/m);
  });
});

describe('GET /v1/backends', () => {
  it('lists the backends sorted by id with the version and its ETag', async () => {
    h.registry.upsert(backend('zeta'));
    h.registry.upsert(backend('alpha'));
    const response = await get('/v1/backends');
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"2"');
    const body = (await response.json()) as { version: number; backends: Backend[] };
    expect(body.version).toBe(2);
    expect(body.backends.map((b) => b.id)).toEqual(['alpha', 'zeta']);
    expect(body.backends[0]).toEqual(backend('alpha'));
  });

  it('answers 304 to If-None-Match with the current version, 200 once it moved', async () => {
    h.registry.upsert(backend('a'));
    expect((await get('/v1/backends', { 'if-none-match': '"1"' })).status).toBe(304);
    expect((await get('/v1/backends', { 'if-none-match': 'W/"0", "1"' })).status).toBe(304);
    h.registry.upsert(backend('b'));
    const moved = await get('/v1/backends', { 'if-none-match': '"1"' });
    expect(moved.status).toBe(200);
    expect(moved.headers.get('etag')).toBe('"2"');
  });

  it('serialises only the changed backend for a new version, byte for byte as JSON.stringify', async () => {
    for (let i = 0; i < 30; i++)
      h.registry.upsert(i % 3 === 0 ? withSecret(`b${i}`) : backend(`b${i}`));
    await get('/v1/backends');
    await get('/v1/backends', bearer);
    const stringify = vi.spyOn(JSON, 'stringify');
    let texts: string[];
    try {
      h.registry.apply([
        { op: 'upsert', backend: withSecret('b7') },
        { op: 'upsert', backend: backend('b9') },
        { op: 'remove', id: 'b12' },
      ]);
      texts = [
        await (await get('/v1/backends')).text(),
        await (await get('/v1/backends', bearer)).text(),
      ];
      // Each changed backend once per view, nothing else.
      const serialised = stringify.mock.calls.map(([value]) => (value as Backend).id);
      expect(serialised.sort()).toEqual(['b7', 'b7', 'b9', 'b9']);
    } finally {
      stringify.mockRestore();
    }
    const backends = h.registry.snapshot().backends;
    expect(texts[1]).toBe(`${JSON.stringify({ version: 31, backends })}\n`);
    expect(texts[0]).toBe(
      `${JSON.stringify({ version: 31, backends: backends.map(redactBackend) })}\n`,
    );
    expect(texts[0]).not.toContain(SECRET);
  });

  it('replaces secret values by the redaction marker without a token', async () => {
    h.registry.upsert(withSecret('a'));
    const text = await (await get('/v1/backends')).text();
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text).backends[0].authConfig).toEqual({
      type: 'header_injection',
      headerName: 'X-Api-Key',
      headerValue: REDACTED,
    });
  });

  it('serves secret values to a request with the right bearer token', async () => {
    h.registry.upsert(withSecret('a'));
    const body = (await (await get('/v1/backends', bearer)).json()) as {
      backends: { authConfig: { headerValue: string } }[];
    };
    expect(body.backends[0]?.authConfig.headerValue).toBe(SECRET);
  });

  it('denies a wrong bearer token with 401 and no data', async () => {
    h.registry.upsert(withSecret('a'));
    const response = await get('/v1/backends', { authorization: 'Bearer wrong' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.text()).not.toContain(SECRET);
  });

  it('never serves secrets when no token is configured, whatever the request carries', async () => {
    const open = await start(undefined);
    try {
      open.registry.upsert(withSecret('a'));
      for (const authorization of ['Bearer ', `Bearer ${TOKEN}`, `Bearer ${SECRET}`]) {
        const response = await fetch(`${open.url}/v1/backends`, { headers: { authorization } });
        expect(response.status).toBe(200);
        expect(await response.text()).not.toContain(SECRET);
      }
    } finally {
      open.api.server.close();
    }
  });

  it('long-polls until the version moves, then answers with the new content', async () => {
    h.registry.upsert(backend('a'));
    const poll = get('/v1/backends?watch=1&timeoutSeconds=10');
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.registry.upsert(backend('b'));
    const response = await poll;
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"2"');
    expect(((await response.json()) as { backends: Backend[] }).backends).toHaveLength(2);
  });

  it('answers a long-poll at once when the version already differs', async () => {
    h.registry.upsert(backend('a'));
    h.registry.upsert(backend('b'));
    const response = await get('/v1/backends?watch=1&timeoutSeconds=30');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { version: number }).version).toBe(2);
  });

  it('answers a long-poll with 304 when the timeout passes without a change', async () => {
    h.registry.upsert(backend('a'));
    const response = await get('/v1/backends?watch=1&timeoutSeconds=1');
    expect(response.status).toBe(304);
    expect(response.headers.get('etag')).toBe('"1"');
  });

  it.each([
    ['watch=abc', 'watch must be a registry version'],
    ['watch=-1', 'watch must be a registry version'],
    ['watch=1&timeoutSeconds=0', 'timeoutSeconds must be an integer from 1 to 300'],
    ['watch=1&timeoutSeconds=301', 'timeoutSeconds must be an integer from 1 to 300'],
    ['watch=1&timeoutSeconds=1.5', 'timeoutSeconds must be an integer from 1 to 300'],
    ['timeoutSeconds=5', 'timeoutSeconds is only allowed with watch'],
    ['watch=1&watch=2', 'query parameter "watch" given twice'],
    ['limit=5', 'unknown query parameter "limit"'],
  ])('rejects ?%s with 400 and a JSON error', async (query, message) => {
    const response = await get(`/v1/backends?${query}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { status: number; message: string } };
    expect(body.error.status).toBe(400);
    expect(body.error.message).toContain(message);
  });
});

describe('gzip', () => {
  it('sends the list compressed to a client that accepts gzip, same ETag, same content', async () => {
    for (let i = 0; i < 50; i++) h.registry.upsert(backend(`b${i}`));
    const plain = await raw('/v1/backends');
    const zipped = await raw('/v1/backends', { 'accept-encoding': 'br, gzip;q=0.8' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-length']).toBe(String(zipped.body.length));
    expect(zipped.body.length).toBeLessThan(plain.body.length / 5);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    expect(zipped.headers.etag).toBe('"50"');
    expect(plain.headers.etag).toBe('"50"');
    for (const answer of [plain, zipped]) {
      expect(answer.headers.vary).toBe('Authorization, Accept-Encoding');
    }
    const head = await raw('/v1/backends', { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(zipped.body.length));
    expect(head.headers['content-encoding']).toBe('gzip');
  });

  it('answers 304 to the same ETag in either coding', async () => {
    h.registry.upsert(backend('a'));
    const headers = { 'accept-encoding': 'gzip', 'if-none-match': '"1"' };
    expect((await raw('/v1/backends', headers)).status).toBe(304);
  });

  it('compresses a long-poll answer once per view, however many clients wait', async () => {
    h.registry.upsert(withSecret('a'));
    const polls = Array.from({ length: 20 }, (_, i) =>
      raw('/v1/backends?watch=1&timeoutSeconds=10', {
        'accept-encoding': 'gzip',
        ...(i % 2 === 0 ? bearer : {}),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    vi.mocked(gzipSync).mockClear();
    h.registry.upsert(withSecret('b'));
    const answers = await Promise.all(polls);
    expect(vi.mocked(gzipSync)).toHaveBeenCalledTimes(2);
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.headers['content-encoding']).toBe('gzip');
      const body = JSON.parse(gunzipSync(answer.body).toString()) as { version: number };
      expect(body.version).toBe(2);
      expect(JSON.stringify(body).includes(SECRET)).toBe(i % 2 === 0);
    }
  });

  it('keeps single backends and errors uncompressed', async () => {
    h.registry.upsert(backend('a'));
    const one = await raw('/v1/backends/a', { 'accept-encoding': 'gzip' });
    expect(one.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(one.body.toString())).toEqual(backend('a'));
    const bad = await raw('/v1/backends?watch=x', { 'accept-encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-encoding']).toBeUndefined();
  });

  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['deflate, gzip;q=1.0, br;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['gzip;q=0.001', true],
    ['br', false],
    ['identity', false],
    ['*', true],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    ['gzip;q=2', false],
    ['gzip;q=abc', false],
  ])('reads Accept-Encoding %j as gzip allowed: %s', (header, allowed) => {
    expect(acceptsGzip(header)).toBe(allowed);
  });
});

describe('GET /v1/backends/{id}', () => {
  it('returns one backend with the version as its ETag', async () => {
    h.registry.upsert(backend('a'));
    h.registry.upsert(withSecret('b'));
    const response = await get('/v1/backends/b');
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"2"');
    const body = (await response.json()) as Backend;
    expect(body.id).toBe('b');
    expect(body.authConfig).toMatchObject({ headerValue: REDACTED });
  });

  it('answers 404 with a JSON error for an unknown id', async () => {
    const response = await get('/v1/backends/missing');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { status: 404, message: 'backend "missing" not found' },
    });
  });

  it.each(['UPPER', 'has_underscore', '-leading', 'a%2Fb', `${'a'.repeat(254)}`, '%E0%A4%A'])(
    'answers 400 for the malformed id %s',
    async (id) => {
      const response = await get(`/v1/backends/${id}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error.status).toBe(400);
    },
  );
});

describe('GET /v1/events', () => {
  it('sends a snapshot, then each change with the version as its id', async () => {
    h.registry.upsert(backend('a'));
    const client = await SseClient.connect(`${h.url}/v1/events`);
    open.push(client);
    expect(client.response?.headers.get('content-type')).toBe('text/event-stream');
    const [snapshot] = await client.waitFor(1);
    expect(snapshot).toEqual({
      event: 'snapshot',
      id: '1',
      data: { version: 1, backends: [backend('a')] },
    });
    h.registry.upsert(backend('b'));
    h.registry.remove('a');
    const [, added, removed] = await client.waitFor(3);
    expect(added).toEqual({
      event: 'change',
      id: '2',
      data: { version: 2, upserted: [backend('b')], removed: [] },
    });
    expect(removed).toMatchObject({ id: '3', data: { upserted: [], removed: ['a'] } });
  });

  it('opens with a heartbeat (version, readiness, interval) before the snapshot, then one per interval', async () => {
    h.registry.upsert(backend('a'));
    h.state.ready = false;
    const response = await fetch(`${h.url}/v1/events`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: snapshot')) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text.startsWith('retry: 1000\n\nevent: heartbeat\ndata: ')).toBe(true);
    // No id: a heartbeat never moves an EventSource's Last-Event-ID.
    expect(text.slice(0, text.indexOf('event: snapshot'))).not.toContain('id:');
    const first = /event: heartbeat\ndata: (.*)\n\n/.exec(text)?.[1] ?? '';
    expect(JSON.parse(first)).toEqual({ version: 1, ready: false, intervalMs: 100 });

    h.state.ready = true;
    const client = await SseClient.connect(`${h.url}/v1/events`);
    open.push(client);
    await client.waitFor(1);
    h.registry.upsert(backend('b'));
    for (let i = 0; i < 200 && client.heartbeats.length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(client.heartbeats.length).toBeGreaterThanOrEqual(3);
    expect(client.heartbeats.at(-1)).toEqual({
      event: 'heartbeat',
      id: undefined,
      data: { version: 2, ready: true, intervalMs: 100 },
    });
  });

  it('says in vmcp-access whether secret values are in the answer', async () => {
    h.registry.upsert(withSecret('a'));
    expect((await get('/v1/backends')).headers.get('vmcp-access')).toBe('redacted');
    expect((await get('/v1/backends', bearer)).headers.get('vmcp-access')).toBe('secrets');
    expect((await get('/v1/backends/a', bearer)).headers.get('vmcp-access')).toBe('secrets');
    const anonymous = await SseClient.connect(`${h.url}/v1/events`);
    const trusted = await SseClient.connect(`${h.url}/v1/events`, bearer);
    open.push(anonymous, trusted);
    expect(anonymous.response?.headers.get('vmcp-access')).toBe('redacted');
    expect(trusted.response?.headers.get('vmcp-access')).toBe('secrets');
  });

  it('serialises each changed backend once per view, for its change event and the next list', async () => {
    for (let i = 0; i < 10; i++)
      h.registry.upsert(i % 3 === 0 ? withSecret(`b${i}`) : backend(`b${i}`));
    const anonymous = await SseClient.connect(`${h.url}/v1/events`);
    const trusted = await SseClient.connect(`${h.url}/v1/events`, bearer);
    open.push(anonymous, trusted);
    await anonymous.waitFor(1);
    await trusted.waitFor(1);
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      h.registry.apply([
        { op: 'upsert', backend: withSecret('b4') },
        { op: 'upsert', backend: backend('b6') },
        { op: 'remove', id: 'b5' },
      ]);
      const version = h.registry.version;
      const [, seenAnonymous] = await anonymous.waitFor(2);
      const [, seenTrusted] = await trusted.waitFor(2);
      await get('/v1/backends');
      await get('/v1/backends', bearer);
      // Backends one by one (the removed ids are an array of strings), never a whole change.
      const serialised = stringify.mock.calls
        .filter(([value]) => !Array.isArray(value))
        .map(([value]) => (value as Partial<Backend>).id);
      expect(serialised.sort()).toEqual(['b4', 'b4', 'b6', 'b6']);
      const upserted = [withSecret('b4'), backend('b6')];
      expect(seenTrusted?.data).toEqual({ version, upserted, removed: ['b5'] });
      expect(seenAnonymous?.data).toEqual({
        version,
        upserted: upserted.map(redactBackend),
        removed: ['b5'],
      });
      expect(JSON.stringify(seenAnonymous?.data)).not.toContain(SECRET);
    } finally {
      stringify.mockRestore();
    }
  });

  it('resumes after Last-Event-ID with the changes the client missed, without a snapshot', async () => {
    h.registry.upsert(backend('a'));
    h.registry.upsert(backend('b'));
    h.registry.upsert(backend('c'));
    const client = await SseClient.connect(`${h.url}/v1/events`, { 'last-event-id': '1' });
    open.push(client);
    const events = await client.waitFor(2);
    expect(events.map((e) => [e.event, e.id])).toEqual([
      ['change', '2'],
      ['change', '3'],
    ]);
  });

  it('starts afresh with a snapshot when Last-Event-ID is newer than the registry', async () => {
    h.registry.upsert(backend('a'));
    const client = await SseClient.connect(`${h.url}/v1/events`, { 'last-event-id': '99' });
    open.push(client);
    const [first] = await client.waitFor(1);
    expect(first).toMatchObject({ event: 'snapshot', id: '1' });
  });

  it('redacts secrets in events without a token and shows them with it', async () => {
    const anonymous = await SseClient.connect(`${h.url}/v1/events`);
    const trusted = await SseClient.connect(`${h.url}/v1/events`, bearer);
    open.push(anonymous, trusted);
    await Promise.all([anonymous.waitFor(1), trusted.waitFor(1)]);
    h.registry.upsert(withSecret('a'));
    const [, redacted] = await anonymous.waitFor(2);
    const [, clear] = await trusted.waitFor(2);
    expect(JSON.stringify(redacted)).not.toContain(SECRET);
    expect(JSON.stringify(clear)).toContain(SECRET);
  });

  it('rejects a malformed Last-Event-ID with 400', async () => {
    const response = await get('/v1/events', { 'last-event-id': 'x1' });
    expect(response.status).toBe(400);
  });

  it('keeps serving other clients while one client reads nothing', async () => {
    // A raw socket that sends the request and never reads: its buffers fill up.
    const { port } = h.api.server.address() as AddressInfo;
    const stuck = connect(port, '127.0.0.1');
    stuck.write('GET /v1/events HTTP/1.1\r\nhost: x\r\n\r\n');
    stuck.pause();
    const reader = await SseClient.connect(`${h.url}/v1/events`);
    open.push(reader);
    await reader.waitFor(1);
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 40; i++) h.registry.upsert(backend('a', { metadata: { big, i: `${i}` } }));
    const events = await reader.waitFor(41);
    expect(events.at(-1)?.id).toBe('40');
    stuck.destroy();
  });

  it('serialises a change once per view, however many clients stream it', async () => {
    const clients = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        SseClient.connect(`${h.url}/v1/events`, i % 2 === 0 ? bearer : {}),
      ),
    );
    open.push(...clients);
    await Promise.all(clients.map((c) => c.waitFor(1)));
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      h.registry.upsert(withSecret('a'));
      await Promise.all(clients.map((c) => c.waitFor(2)));
      // One body with secrets, one redacted: not one per client.
      expect(stringify).toHaveBeenCalledTimes(2);
    } finally {
      stringify.mockRestore();
    }
  });

  it('drops a client that falls too far behind, and it resumes without losing a change', async () => {
    const small = await start(TOKEN, 300);
    try {
      const { port } = small.api.server.address() as AddressInfo;
      const stuck = connect(port, '127.0.0.1');
      stuck.write('GET /v1/events HTTP/1.1\r\nhost: x\r\n\r\n');
      stuck.pause();
      const big = 'x'.repeat(128 * 1024);
      for (let i = 0; i < 200; i++) {
        small.registry.upsert(backend('a', { metadata: { big, i: `${i}` } }));
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The server gives up on it: no stream stays open.
      for (let i = 0; i < 100; i++) {
        if ((await small.metrics.metrics()).includes('vmcp_http_open_streams{kind="events"} 0'))
          break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await small.metrics.metrics()).toContain('vmcp_http_open_streams{kind="events"} 0');
      stuck.destroy();
      // A resume of 10 big changes: 50 of them (6.4 MB) through a fetch reader on a busy machine
      // could itself stall for the 300 ms this server allows.
      const resumed = await SseClient.connect(`${small.url}/v1/events`, { 'last-event-id': '190' });
      open.push(resumed);
      const events = await resumed.waitFor(10);
      expect(events.map((e) => Number(e.id))).toEqual(
        Array.from({ length: 10 }, (_, i) => 191 + i),
      );
    } finally {
      small.api.drain();
      small.api.server.closeAllConnections();
      small.api.server.close();
    }
  });

  it('ends every stream and long-poll when draining, and refuses new ones with 503', async () => {
    const client = await SseClient.connect(`${h.url}/v1/events`);
    open.push(client);
    await client.waitFor(1);
    const poll = get('/v1/backends?watch=0&timeoutSeconds=60');
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.api.drain();
    await client.waitForEnd();
    expect((await poll).status).toBe(503);
    expect((await get('/v1/backends')).status).toBe(503);
    expect((await get('/readyz')).status).toBe(503);
  });
});

describe('versions across a restart of the sidecar', () => {
  it('starts each process above every version an earlier one reached', () => {
    const earlier = restartSafeVersion(Date.parse('2026-11-25T10:00:00Z'));
    // Even after a million changes a second for its whole life, the earlier process stays below.
    const reached = earlier + 1_000_000 * 3600;
    expect(restartSafeVersion(Date.parse('2026-11-25T11:00:00.001Z'))).toBeGreaterThan(reached);
    expect(Number.isSafeInteger(restartSafeVersion(Date.parse('2200-01-01T00:00:00Z')))).toBe(true);
  });

  it("gives a client holding an earlier process's version the whole content, on every route", async () => {
    const registry = createDynamicRegistry([], { initialVersion: restartSafeVersion() });
    const restarted = await start(TOKEN, undefined, registry);
    try {
      registry.upsert(backend('a'));
      // What the client held: the version after the first change of the process an hour before
      // (with versions from 0 in both processes it would equal this one's: a 304, a resume).
      const old = restartSafeVersion(Date.now() - 3_600_000) + 1;
      // A long-poll answers at once with the list.
      const poll = await fetch(`${restarted.url}/v1/backends?watch=${old}&timeoutSeconds=1`);
      expect(poll.status).toBe(200);
      expect(await poll.json()).toMatchObject({
        version: registry.version,
        backends: [{ id: 'a' }],
      });
      // A conditional GET is not a 304.
      const conditional = await fetch(`${restarted.url}/v1/backends`, {
        headers: { 'if-none-match': `"${old}"` },
      });
      expect(conditional.status).toBe(200);
      // An event stream starts with a snapshot, not with changes after the old version.
      const client = await SseClient.connect(`${restarted.url}/v1/events`, {
        'last-event-id': String(old),
      });
      open.push(client);
      const [first] = await client.waitFor(1);
      expect(first).toMatchObject({ event: 'snapshot', id: String(registry.version) });
    } finally {
      for (const client of open.splice(0)) client.close();
      restarted.api.drain();
      restarted.api.server.closeAllConnections();
      await new Promise((resolve) => restarted.api.server.close(resolve));
    }
  });
});

describe('GET /v1/explain/{name}', () => {
  it("answers with the watcher's explanation of the name", async () => {
    const response = await get('/v1/explain/github', bearer);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'github', explained: true });
  });

  it('refuses a name that is not a Kubernetes name, and a wrong token', async () => {
    expect((await get('/v1/explain/Not_A_Name')).status).toBe(400);
    expect((await get('/v1/explain/github', { authorization: 'Bearer wrong' })).status).toBe(401);
  });
});

describe('requests the API does not serve', () => {
  it('answers 405 with Allow for other methods', async () => {
    const response = await fetch(`${h.url}/v1/backends`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 404 with a JSON error for an unknown path', async () => {
    const response = await get('/v2/things');
    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error.message).toContain('/v2/things');
  });

  it.each(Object.getOwnPropertyNames(Object.prototype))(
    'answers 404 for /%s, a path named like an Object.prototype member',
    async (name) => {
      const response = await get(`/${name}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as ErrorBody).error.status).toBe(404);
    },
  );

  it('answers 431 to oversized headers and keeps serving', async () => {
    const { port } = h.api.server.address() as AddressInfo;
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('close', () => resolve(data));
      socket.write(`GET /v1/backends HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 431/);
    expect((await get('/v1/backends')).status).toBe(200);
  });

  it('counts requests by route and status code', async () => {
    await get('/v1/backends');
    await get('/v1/backends/missing');
    const text = await h.metrics.metrics();
    expect(text).toContain('vmcp_http_requests_total{route="list",code="200"} 1');
    expect(text).toContain('vmcp_http_requests_total{route="error",code="404"} 1');
  });
});
