import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, KubeClient, RequestTimeoutError, ResourceClient } from '../src/client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A plain HTTP server on loopback; counts the connections it accepted. */
async function serve(handler: Handler) {
  const server = createServer(handler);
  servers.push(server);
  const connections = { opened: 0, closed: 0 };
  server.on('connection', (socket) => {
    connections.opened++;
    socket.once('close', () => connections.closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections };
}

function kubeConfigFor(
  server: string,
  user: { token?: string; username?: string; password?: string },
  proxyUrl?: string,
): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true, ...(proxyUrl ? { proxyUrl } : {}) }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kubeConfig;
}

/**
 * A kubeconfig whose client certificate an exec plugin rotates: each call returns the current
 * one (read afresh, so a new Buffer each time); `rotate()` moves to the next.
 */
function rotatingCert(server: string) {
  const kubeConfig = kubeConfigFor(server, { token: 't' });
  let generation = 0;
  const apply = kubeConfig.applyToHTTPSOptions.bind(kubeConfig);
  kubeConfig.applyToHTTPSOptions = async (options) => {
    await apply(options);
    options.cert = Buffer.from(`certificate ${generation}`);
  };
  return {
    kubeConfig,
    rotate: () => {
      generation++;
    },
  };
}

const json = (res: ServerResponse, code: number, body: unknown, headers = {}) => {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('KubeClient transport', () => {
  it('keeps one connection alive across requests and releases it on close', async () => {
    const seen: (string | undefined)[] = [];
    const { url, connections } = await serve((req, res) => {
      seen.push(req.headers.authorization);
      json(res, 200, { kind: 'ConfigMap', metadata: { name: req.url } });
    });
    const client = new KubeClient(kubeConfigFor(url, { token: 'a-token' }));
    for (const name of ['a', 'b', 'c']) {
      const object = await client.requestJson<{ metadata: { name: string } }>('GET', `/${name}`);
      expect(object.metadata.name).toBe(`/${name}`);
    }
    expect(seen).toEqual(['Bearer a-token', 'Bearer a-token', 'Bearer a-token']);
    expect(connections.opened).toBe(1);
    await client.close();
    await expect.poll(() => connections.closed).toBe(1);
  });

  it('makes a new connection pool when the TLS settings change, and closes every pool', async () => {
    const { url, connections } = await serve((_req, res) => json(res, 200, {}));
    const { kubeConfig, rotate } = rotatingCert(url);
    const client = new KubeClient(kubeConfig);
    await client.requestJson('GET', '/a');
    await client.requestJson('GET', '/b');
    expect(connections.opened).toBe(1);
    rotate();
    await client.requestJson('GET', '/c');
    await client.requestJson('GET', '/d');
    expect(connections.opened).toBe(2);
    // The idle connection of the old pool was closed at once.
    await expect.poll(() => connections.closed).toBe(1);
    await client.close();
    await expect.poll(() => connections.closed).toBe(2);
  });

  it('closes a connection of a replaced pool once its request in flight ends', async () => {
    let release: () => void = () => undefined;
    const { url, connections } = await serve((req, res) => {
      if (req.url === '/slow') release = () => json(res, 200, {});
      else json(res, 200, {});
    });
    const { kubeConfig, rotate } = rotatingCert(url);
    const client = new KubeClient(kubeConfig);
    const slow = client.requestJson('GET', '/slow');
    await expect.poll(() => connections.opened).toBe(1);
    rotate();
    await client.requestJson('GET', '/c');
    expect(connections.opened).toBe(2);
    expect(connections.closed).toBe(0);
    release();
    await slow;
    // Its pool is no longer used: the connection closes instead of idling until close().
    await expect.poll(() => connections.closed).toBe(1);
    await client.close();
    await expect.poll(() => connections.closed).toBe(2);
  });

  it('sends a body with its content type and length', async () => {
    let received: { type?: string; length?: string; body: string } | undefined;
    const { url } = await serve((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        received = {
          ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}),
          ...(req.headers['content-length'] ? { length: req.headers['content-length'] } : {}),
          body,
        };
        json(res, 200, { ok: true });
      });
    });
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    await client.requestJson('PATCH', '/x', {
      body: { metadata: { labels: { é: 'ü' } } },
      contentType: 'application/merge-patch+json',
    });
    await client.close();
    expect(received).toEqual({
      type: 'application/merge-patch+json',
      length: String(Buffer.byteLength('{"metadata":{"labels":{"é":"ü"}}}')),
      body: '{"metadata":{"labels":{"é":"ü"}}}',
    });
  });

  it('uses basic credentials of the kubeconfig user', async () => {
    let authorization: string | undefined;
    const { url } = await serve((req, res) => {
      authorization = req.headers.authorization;
      json(res, 200, {});
    });
    const client = new KubeClient(kubeConfigFor(url, { username: 'admin', password: 'pw' }));
    await client.requestJson('GET', '/version');
    await client.close();
    expect(authorization).toBe(`Basic ${Buffer.from('admin:pw').toString('base64')}`);
  });

  it("goes through the cluster's proxy-url", async () => {
    const { url: target } = await serve((req, res) => json(res, 200, { path: req.url }));
    // A forward proxy that tunnels CONNECT requests (as client-node's proxy agents send them).
    const tunnels: string[] = [];
    const proxy = createServer((_req, res) => json(res, 405, {}));
    servers.push(proxy);
    proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const client = new KubeClient(kubeConfigFor(target, { token: 't' }, proxyUrl));
    const answer = await client.requestJson<{ path: string }>('GET', '/api/v1/namespaces');
    await client.close();
    expect(answer.path).toBe('/api/v1/namespaces');
    expect(tunnels).toEqual([new URL(target).host]);
  });

  it('turns an error answer into an ApiError with its Status and Retry-After', async () => {
    const { url } = await serve((_req, res) =>
      json(
        res,
        429,
        { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'slow down' },
        { 'retry-after': '3' },
      ),
    );
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    const error = await client.requestJson('GET', '/x?labelSelector=a').catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 429, reason: 'TooManyRequests', retryAfterSeconds: 3 });
    expect((error as ApiError).message).toBe('GET /x: 429 TooManyRequests: slow down');
  });

  it("names an error after the request's `what` when it has one", async () => {
    const { url } = await serve((_req, res) =>
      json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not there' }),
    );
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    const resource = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
    const error = await new ResourceClient(client, resource, 'tools')
      .get('ca')
      .catch((e: unknown) => e);
    await client.close();
    expect((error as ApiError).message).toBe('get ConfigMap tools/ca: 404 NotFound: not there');
  });

  it('streams a watch body chunk by chunk and stops it on abort', async () => {
    let serverSawClose = false;
    const { url } = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED"}\n');
      req.socket.once('close', () => {
        serverSawClose = true;
      });
    });
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    const controller = new AbortController();
    const response = await client.stream('/watch', controller.signal);
    const chunks: string[] = [];
    const reading = (async () => {
      for await (const chunk of response.body) {
        chunks.push(chunk.toString());
        controller.abort();
      }
    })();
    await expect(reading).rejects.toThrow();
    expect(chunks).toEqual(['{"type":"ADDED"}\n']);
    await expect.poll(() => serverSawClose).toBe(true);
    await client.close();
  });

  it('rejects a watch whose answer is an error, with the Status', async () => {
    const { url } = await serve((_req, res) =>
      json(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }),
    );
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    const error = await client
      .stream('/w?watch=true', new AbortController().signal)
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toMatchObject({ code: 410, reason: 'Expired' });
    expect((error as Error).message).toBe('watch /w: 410 Expired: too old');
  });

  it('fails a request to a closed port without hanging', async () => {
    const { url } = await serve((_req, res) => json(res, 200, {}));
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    await expect(client.requestJson('GET', '/x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await client.close();
  });

  it('bounds a request with timeoutMs: a server that never answers fails it in time', async () => {
    const { url } = await serve(() => {
      // Accepts the request and never answers, as a frozen API server.
    });
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    const error = await client
      .requestJson('GET', '/api/v1/namespaces/x/secrets/s', { timeoutMs: 50 })
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT', timeoutMs: 50 });
    expect((error as Error).message).toBe(
      'GET /api/v1/namespaces/x/secrets/s: no complete answer within 50 ms',
    );
  });

  it('bounds the body too: headers in time and a body that never ends still fail', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":');
    });
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    await expect(client.requestJson('GET', '/x', { timeoutMs: 50 })).rejects.toBeInstanceOf(
      RequestTimeoutError,
    );
    await client.close();
  });

  it("reports the caller's abort as an abort, not as a timeout", async () => {
    const { url } = await serve(() => undefined);
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    const controller = new AbortController();
    const request = client.requestJson('GET', '/x', {
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    controller.abort();
    const error = await request.catch((e: unknown) => e);
    await client.close();
    expect(error).not.toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('applies a ResourceClient getTimeoutMs to get only', async () => {
    const { url } = await serve((req, res) => {
      if (req.url?.includes('watch=true')) return; // never answers
      if (req.url?.endsWith('/slow')) return;
      json(res, 200, { kind: 'Secret', metadata: { name: 'fast' } });
    });
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    const secrets = new ResourceClient(
      client,
      { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
      'x',
      { getTimeoutMs: 50 },
    );
    expect((await secrets.get('fast')).metadata.name).toBe('fast');
    await expect(secrets.get('slow')).rejects.toBeInstanceOf(RequestTimeoutError);
    await client.close();
  });

  it('asks for PartialObjectMetadata on get, list and watch when metadataOnly', async () => {
    const accepts: Record<string, string | undefined> = {};
    const { url } = await serve((req, res) => {
      const url = req.url ?? '';
      const verb = url.includes('watch=true') ? 'watch' : url.endsWith('/cm') ? 'get' : 'list';
      accepts[verb] = req.headers.accept;
      if (verb === 'watch') res.end();
      else if (verb === 'get') json(res, 200, { kind: 'PartialObjectMetadata', metadata: {} });
      else json(res, 200, { kind: 'PartialObjectMetadataList', metadata: {}, items: [] });
    });
    const client = new KubeClient(kubeConfigFor(url, { token: 't' }));
    const ref = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
    const metadata = new ResourceClient(client, ref, 'x', { metadataOnly: true });
    await metadata.get('cm');
    await metadata.listPage();
    const watch = await metadata.watch({}, new AbortController().signal);
    watch.body.destroy();
    expect(accepts).toEqual({
      get: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
      list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
      watch: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
    });
    await new ResourceClient(client, ref, 'x').get('cm');
    expect(accepts.get).toBe('application/json');
    await client.close();
  });
});
