import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@vmcp/kube-runtime';
import { silentLogger } from '@vmcp/kube-runtime';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { malformedStatus, type ParserError } from '../src/http/malformed.js';
import { MAX_TARGET_BYTES, parseTarget } from '../src/http/request-target.js';
import { SERVER_LIMITS } from '../src/http.js';
import { errorBodies, type Harness, rawExchange, startApi } from './support/api.js';

const request = (line: string, headers = 'Host: x\r\n') => `${line}\r\n${headers}\r\n`;

let h: Harness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h.close();
});

/** The server still answers: the process (here, the server) survived what came before. */
async function stillServes(): Promise<void> {
  expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
}

describe('parseTarget', () => {
  it.each([
    ['GET', '/v1/backends?watch=3', '/v1/backends', 'watch=3'],
    ['GET', '//a:b/', '//a:b/', ''],
    ['GET', '//[::1/x?y=1', '//[::1/x', 'y=1'],
    ['GET', '/\\a:b/', '//a:b/', ''],
    ['GET', '/a/../v1/backends', '/v1/backends', ''],
    ['GET', '/%zz%', '/%zz%', ''],
    ['GET', 'http://any.host/v1/backends?watch=1', '/v1/backends', 'watch=1'],
    ['GET', 'HTTPS://h:443/healthz', '/healthz', ''],
    ['OPTIONS', '*', '*', ''],
  ])('%s %s is the path %s', (method, target, path, query) => {
    const parsed = parseTarget(method, target);
    expect(parsed).toEqual({ path, query: new URLSearchParams(query) });
  });

  it.each([
    ['GET', 'http://a:b/', 400],
    ['GET', 'http://[/', 400],
    ['GET', 'https://a:99999/', 400],
    ['GET', 'http://256.256.256.256/', 400],
    ['GET', 'ftp://a/', 400],
    ['GET', 'a:80', 400],
    ['GET', '*', 400],
    ['GET', '', 400],
    ['GET', `/${'a'.repeat(MAX_TARGET_BYTES)}`, 414],
  ])('%s %s is a %s, as a value', (method, target, status) => {
    expect(parseTarget(method, target)).toMatchObject({ status });
  });
});

describe('malformedStatus', () => {
  const packet = (text: string, at: number, code: string): ParserError =>
    Object.assign(new Error(code), { code, rawPacket: Buffer.from(text), bytesParsed: at });

  it.each([
    [
      'a request line that overflows the header limit',
      'GET /aaaaaaaa',
      13,
      'HPE_HEADER_OVERFLOW',
      414,
    ],
    ['header fields that overflow it', 'GET / HTTP/1.1\r\nX: aaaa', 21, 'HPE_HEADER_OVERFLOW', 431],
    [
      'a pipelined request line that overflows',
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /aaaa',
      35,
      'HPE_HEADER_OVERFLOW',
      414,
    ],
    ['an overflow in a later read', 'aaaaaaaaaaaa', 12, 'HPE_HEADER_OVERFLOW', 431],
    [
      'a well-formed line with an unknown method',
      'FOO / HTTP/1.1\r\n',
      0,
      'HPE_INVALID_METHOD',
      405,
    ],
    ['garbage', 'GARBAGE\r\n\r\n', 0, 'HPE_INVALID_METHOD', 400],
    ['TLS on the HTTP port', '\x16\x03\x01\x00', 0, 'HPE_INVALID_METHOD', 400],
    ['conflicting framing', 'GET / HTTP/1.1\r\n', 20, 'HPE_INVALID_TRANSFER_ENCODING', 400],
    ['chunk extensions too large', '1;xxxx', 6, 'HPE_CHUNK_EXTENSIONS_OVERFLOW', 413],
  ])('%s is a %s', (_what, text, at, code, status) => {
    expect(malformedStatus(packet(text, at, code))).toBe(status);
  });

  it('answers 408 to a request timeout, and nothing to a connection that failed', () => {
    const timeout = Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    expect(malformedStatus(timeout)).toBe(408);
    expect(malformedStatus(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(
      undefined,
    );
  });
});

describe('requests nobody should send', () => {
  it.each([
    ['an authority in an origin-form path', request('GET //a:b/ HTTP/1.1'), 404],
    ['a bad percent-encoding in such a path', request('GET //%zz/ HTTP/1.1'), 404],
    ['a backslash path', request('GET /\\\\a:b/ HTTP/1.1'), 404],
    [
      'an absolute-form target with a port that is not a number',
      request('GET http://a:b/ HTTP/1.1'),
      400,
    ],
    ['an absolute-form target with a broken IPv6 host', request('GET http://[/ HTTP/1.1'), 400],
    ['an absolute-form target of another scheme', request('GET ftp://a/ HTTP/1.1'), 400],
    ['the asterisk-form with GET', request('GET * HTTP/1.1'), 400],
    ['a bad percent-encoding in a backend id', request('GET /v1/backends/%ZZ HTTP/1.1'), 400],
    ['a lone percent sign in an explain name', request('GET /v1/explain/% HTTP/1.1'), 400],
    ['a query parameter that is only a percent sign', request('GET /healthz?%zz=1 HTTP/1.1'), 400],
    ['an HTTP/1.1 request without Host', request('GET /healthz HTTP/1.1', ''), 400],
    ['two Host headers', request('GET /healthz HTTP/1.1', 'Host: a\r\nHost: b\r\n'), 400],
    ['garbage', 'GARBAGE\r\n\r\n', 400],
    ['TLS on the HTTP port', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 400],
    ['an HTTP version that does not exist', request('GET /healthz HTTP/1.2'), 400],
    [
      'Content-Length beside Transfer-Encoding',
      request(
        'GET /healthz HTTP/1.1',
        'Host: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n',
      ),
      400,
    ],
    [
      'two different Content-Lengths',
      `${request('GET /healthz HTTP/1.1', 'Host: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n')}ab`,
      400,
    ],
    [
      'a header name with a space',
      request('GET /healthz HTTP/1.1', 'Host: x\r\nBad Name: 1\r\n'),
      400,
    ],
    [
      'an expectation the server does not meet',
      request('GET /healthz HTTP/1.1', 'Host: x\r\nExpect: tea\r\n'),
      417,
    ],
    ['a method the API does not take', request('DELETE /v1/backends HTTP/1.1'), 405],
    ['a method Node does not know', request('FOO /v1/backends HTTP/1.1'), 405],
    ['CONNECT', request('CONNECT a:443 HTTP/1.1'), 405],
    ['OPTIONS *', request('OPTIONS * HTTP/1.1'), 405],
    ['a target above 8 KiB', request(`GET /${'a'.repeat(9000)} HTTP/1.1`), 414],
    ['a target of 64 KiB', request(`GET /${'a'.repeat(64 * 1024)} HTTP/1.1`), 414],
    [
      'header fields of 70 KB',
      request('GET /healthz HTTP/1.1', `Host: x\r\nX: ${'h'.repeat(70_000)}\r\n`),
      431,
    ],
  ])('answers %s with a JSON %s, and keeps serving', async (_what, bytes, status) => {
    const reply = await rawExchange(h.port, bytes);
    expect(reply.statuses).toEqual([status]);
    expect(errorBodies(reply)).toEqual([{ status, message: expect.any(String) }]);
    if (status === 405) expect(reply.text).toMatch(/\r\nallow: GET, HEAD\r\n/i);
    await stillServes();
  });

  it('serves a target in absolute-form like its path', async () => {
    const reply = await rawExchange(h.port, request('GET http://elsewhere/readyz HTTP/1.1'));
    expect(reply.statuses).toEqual([200]);
  });

  it('answers each request of a pipelined batch in order, bad targets included', async () => {
    const batch = [
      request('GET /healthz HTTP/1.1'),
      request('GET //a:b/ HTTP/1.1'),
      request('GET http://a:b/ HTTP/1.1'),
      request('GET * HTTP/1.1'),
      request('GET /readyz HTTP/1.1'),
    ].join('');
    const reply = await rawExchange(h.port, batch);
    expect(reply.statuses).toEqual([200, 404, 400, 400, 200]);
    await stillServes();
  });

  it('answers the requests of a batch before a malformed one, then the malformed one, and closes', async () => {
    const batch = `${request('GET /readyz HTTP/1.1')}${request('GET /v1~ HTTP/1.1')}GARBAGE\r\n\r\n`;
    const reply = await rawExchange(h.port, batch);
    expect(reply.statuses).toEqual([200, 404, 400]);
    expect(reply.closed).toBe(true);
    await stillServes();
  });

  it('sends an answer still being made before the error of a later request', async () => {
    await h.close();
    h = await startApi({
      explain: (name) => new Promise((resolve) => setTimeout(() => resolve({ name }), 100)),
    });
    const bytes = `${request('GET /v1/explain/a HTTP/1.1')}\u0002junk`;
    const reply = await rawExchange(h.port, bytes, 10_000, false);
    expect(reply.statuses).toEqual([200, 400]);
    expect(reply.text).toContain('{"name":"a"}');
  });

  it('ignores bytes after a Connection: close request, and answers that request', async () => {
    const closing = request('GET /readyz HTTP/1.1', 'Host: x\r\nConnection: close\r\n');
    const reply = await rawExchange(h.port, `${closing}${request('GET /healthz HTTP/1.1')}`);
    expect(reply.statuses).toEqual([200]);
    expect(reply.closed).toBe(true);
  });

  it('counts what the parser refused by status', async () => {
    await rawExchange(h.port, 'GARBAGE\r\n\r\n');
    await rawExchange(h.port, request('CONNECT a:443 HTTP/1.1'));
    const text = await h.metrics.metrics();
    expect(text).toContain('vmcp_http_requests_total{route="malformed",code="400"} 1');
    expect(text).toContain('vmcp_http_requests_total{route="connect",code="405"} 1');
  });

  it('sets its timeouts and header limit deliberately', () => {
    const { server } = h.api;
    expect(server.headersTimeout).toBe(SERVER_LIMITS.headersTimeoutMs);
    expect(server.requestTimeout).toBe(SERVER_LIMITS.requestTimeoutMs);
    expect(server.keepAliveTimeout).toBe(SERVER_LIMITS.keepAliveTimeoutMs);
    expect(SERVER_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(SERVER_LIMITS.requestTimeoutMs);
  });
});

describe('the last line of defence', () => {
  const errorLog = () => {
    const error = vi.fn();
    const logger = { ...silentLogger, error, child: () => logger } as unknown as Logger;
    return { logger, error };
  };

  it('turns a route that throws into a 500 for that request only, logged and counted', async () => {
    const { logger, error } = errorLog();
    await h.close();
    h = await startApi({
      logger,
      explain: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'kind')");
      },
    });
    const response = await fetch(`${h.url}/v1/explain/github`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { status: 500, message: 'internal error' } });
    expect(error).toHaveBeenCalledWith(
      expect.objectContaining({ source: 'route', path: '/v1/explain/github' }),
      'HTTP server error',
    );
    expect(await h.metrics.metrics()).toContain('vmcp_http_request_errors_total{source="route"} 1');
    await stillServes();
  });

  it('survives an error event on a response that nothing else handled', async () => {
    h.api.server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.once('finish', () => res.emit('error', new Error('write after end')));
    });
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    await vi.waitFor(async () =>
      expect(await h.metrics.metrics()).toContain(
        'vmcp_http_request_errors_total{source="response"} 1',
      ),
    );
  });

  it('closes a stream whose timer fails, and counts it', async () => {
    const clock = new FakeClock();
    let heartbeats = 0;
    await h.close();
    h = await startApi({
      clock,
      heartbeatMs: 1000,
      ready: () => {
        heartbeats++;
        if (heartbeats > 1) throw new Error('readiness check failed');
        return true;
      },
    });
    const response = await fetch(`${h.url}/v1/events`);
    const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    await reader.read();
    clock.advance(1000);
    // The stream ends (its connection is closed) instead of staying open with a dead timer.
    const ended = await (async () => {
      try {
        while (!(await reader.read()).done);
      } catch {
        // Closed without an end: the client resumes, as after any dropped connection.
      }
      return true;
    })();
    expect(ended).toBe(true);
    expect(await h.metrics.metrics()).toContain(
      'vmcp_http_request_errors_total{source="stream"} 1',
    );
    await stillServes();
  });

  it('survives accept errors once listening, and leaves listening errors to the caller', async () => {
    const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
    expect(() => h.api.server.emit('error', emfile)).not.toThrow();
    expect(await h.metrics.metrics()).toContain(
      'vmcp_http_request_errors_total{source="server"} 1',
    );
    await stillServes();
    const { createApiServer } = await import('../src/http.js');
    const { Registry } = await import('prom-client');
    const { createDynamicRegistry } = await import('@vmcp/registry');
    const unstarted = createApiServer({
      registry: createDynamicRegistry(),
      alive: () => true,
      ready: () => true,
      metricsRegistry: new Registry(),
      logger: silentLogger,
    });
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(() => unstarted.server.emit('error', inUse)).toThrow('EADDRINUSE');
  });
});
