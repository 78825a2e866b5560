import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import { eventually } from '@vmcp/test-support';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ExampleServer, startExampleServer } from '../src/example-server.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { inProcessSource } from '../src/registry-source.js';
import type { GatewayStatus } from '../src/status.js';
import { backendAt, capturingLogger, FAST_RETRY, toolsOf } from './support/fixtures.js';
import { GatewayClient } from './support/gateway-client.js';

/**
 * The gateway over an in-process registry (what `--kubeconfig` runs), with real SDK servers on
 * loopback as backends and an SDK client connected to it. The sidecar tier
 * (`gateway.sidecar.test.ts`) runs the same path behind the built sidecar and a cluster.
 */
describe('gateway (in-process registry)', () => {
  const SECRET_V1 = 'gw-header-secret-v1-5c2e';
  const SECRET_V2 = 'gw-header-secret-v2-91ad';
  let registry: DynamicRegistry;
  let gateway: Gateway;
  let client: GatewayClient;
  let log: ReturnType<typeof capturingLogger>;
  const servers: ExampleServer[] = [];
  const bodies: string[] = [];

  async function server(
    name: string,
    options: Partial<Parameters<typeof startExampleServer>[0]> = {},
  ) {
    const started = await startExampleServer({ name, transport: 'streamable-http', ...options });
    servers.push(started);
    return started;
  }

  async function status(): Promise<GatewayStatus> {
    const text = await (await fetch(`${gateway.url}/status`)).text();
    bodies.push(text);
    return JSON.parse(text) as GatewayStatus;
  }

  async function stateOf(id: string) {
    return (await status()).backends.find((backend) => backend.id === id);
  }

  beforeEach(async () => {
    registry = createDynamicRegistry();
    log = capturingLogger();
    gateway = await startGateway({
      source: inProcessSource(registry),
      listen: { host: '127.0.0.1', port: 0 },
      logger: log.logger,
      retry: FAST_RETRY,
      env: {},
    });
    client = await GatewayClient.connect(gateway.url);
  });

  afterEach(async () => {
    await client.close();
    await gateway.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('serves every backend tool under its prefix and routes calls (Streamable HTTP and SSE)', async () => {
    const alpha = await server('alpha');
    const beta = await server('beta', { transport: 'sse' });
    registry.upsert(backendAt('alpha', alpha.url));
    registry.upsert(backendAt('beta', beta.url));
    await eventually(async () =>
      expect(await client.toolNames()).toEqual(toolsOf('alpha', 'beta')),
    );
    expect(await client.call('alpha_echo', 'hello')).toBe('alpha: hello');
    expect(await client.call('beta_whoami')).toBe('beta');
    const { backends, catalog } = await status();
    expect(backends).toEqual([
      { id: 'alpha', state: 'connected', tools: 2, url: alpha.url, transport: 'streamable-http' },
      { id: 'beta', state: 'connected', tools: 2, url: beta.url, transport: 'sse' },
    ]);
    expect(catalog).toEqual({ registryVersion: registry.version, tools: 4 });
  });

  it('tells live sessions when a backend leaves or joins, and closes the removed client', async () => {
    const alpha = await server('alpha');
    const beta = await server('beta');
    registry.upsert(backendAt('alpha', alpha.url));
    await eventually(async () => expect(await client.toolNames()).toEqual(toolsOf('alpha')));
    const notified = client.listChanged;

    registry.upsert(backendAt('beta', beta.url));
    await eventually(() => client.listChanged > notified);
    expect(await client.toolNames()).toContain('beta_echo');

    const before = client.listChanged;
    registry.remove('alpha');
    await eventually(() => client.listChanged > before);
    expect(await client.toolNames()).toEqual(toolsOf('beta'));
    await eventually(() => alpha.sessionCount === 0); // its session was ended: the client is closed
  });

  it("follows a backend's own tools/list_changed", async () => {
    const alpha = await server('alpha');
    registry.upsert(backendAt('alpha', alpha.url));
    await eventually(async () => expect(await client.toolNames()).toHaveLength(2));
    const before = client.listChanged;
    alpha.addTool({ name: 'time', description: 'The time', run: () => 'noon' });
    await eventually(() => client.listChanged > before);
    expect(await client.toolNames()).toEqual(['alpha_echo', 'alpha_time', 'alpha_whoami']);
    expect(await client.call('alpha_time')).toBe('noon');
  });

  it('takes a stopped backend out of the catalog and brings it back when it returns', async () => {
    const alpha = await server('alpha');
    const beta = await server('beta');
    registry.upsert(backendAt('alpha', alpha.url));
    registry.upsert(backendAt('beta', beta.url));
    await eventually(async () => expect(await client.toolNames()).toHaveLength(4));

    const port = beta.port;
    await beta.close();
    await eventually(async () => expect(await client.toolNames()).toEqual(toolsOf('alpha')));
    expect(await stateOf('beta')).toMatchObject({
      state: expect.stringMatching(/failed|connecting/),
      tools: 0,
    });
    expect((await stateOf('beta'))?.reason).toMatch(/ECONNREFUSED|closed|fetch failed/);

    const before = client.listChanged;
    await server('beta', { port });
    await eventually(async () => expect(await client.toolNames()).toHaveLength(4));
    expect(client.listChanged).toBeGreaterThan(before);
    expect(await client.call('beta_echo', 'back')).toBe('beta: back');
  });

  it('reaches a header-protected backend with the registry value, and the new one after a rotation', async () => {
    let expected = SECRET_V1;
    const guarded = await server('guarded', {
      requireHeader: { name: 'X-Api-Key', value: () => expected },
    });
    const withSecret = (value: string) =>
      backendAt('guarded', guarded.url, {
        authConfig: { type: 'header_injection', headerName: 'X-Api-Key', headerValue: value },
      });
    registry.upsert(withSecret(SECRET_V1));
    await eventually(async () => expect(await client.call('guarded_whoami')).toBe('guarded'));

    expected = SECRET_V2; // the backend now wants the rotated value; the registry still has the old
    const refused = await client.call('guarded_whoami').then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(refused).toBeInstanceOf(McpError);
    bodies.push(refused?.message ?? '');

    registry.upsert(withSecret(SECRET_V2));
    await eventually(async () => expect(await client.call('guarded_whoami')).toBe('guarded'));
    expect(guarded.headerValues.at(-1)).toBe(SECRET_V2);
    expect(guarded.headerValues).toContain(SECRET_V1);
    await status();
    for (const text of [log.text(), ...bodies]) {
      expect(text).not.toContain(SECRET_V1);
      expect(text).not.toContain(SECRET_V2);
    }
  });

  it('scrubs a secret that a refusing backend echoes back from /status and the logs', async () => {
    const { createServer } = await import('node:http');
    const echoing = createServer((req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(`refused key ${String(req.headers['x-api-key'])}`);
    });
    await new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = echoing.address() as { port: number };
      registry.upsert(
        backendAt('echoing', `http://127.0.0.1:${port}/mcp`, {
          authConfig: { type: 'header_injection', headerName: 'X-Api-Key', headerValue: SECRET_V1 },
        }),
      );
      const failed = await eventually(async () => {
        const backend = await stateOf('echoing');
        expect(backend?.reason).toContain('refused key [REDACTED]');
        return backend;
      });
      expect(failed?.state).toMatch(/failed|connecting/);
      expect(log.text()).toContain('refused key [REDACTED]');
      for (const text of [log.text(), ...bodies]) expect(text).not.toContain(SECRET_V1);
    } finally {
      echoing.closeAllConnections();
      echoing.close();
    }
  });

  it('reports a backend it will not connect to as excluded, with the reason', async () => {
    registry.upsert(
      backendAt('docs', 'https://docs.example.com/mcp', {
        authConfig: {
          type: 'token_exchange',
          tokenUrl: 'https://sso/token',
          clientSecret: SECRET_V1,
        },
      }),
    );
    await eventually(async () =>
      expect(await stateOf('docs')).toMatchObject({
        state: 'excluded',
        reason: expect.stringContaining('"token_exchange" is not implemented'),
        tools: 0,
      }),
    );
    expect(log.text()).not.toContain(SECRET_V1);
  });

  it('answers bad requests with errors and keeps serving', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${gateway.url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body,
      });
    expect((await post({}, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')).status).toBe(400);
    expect((await post({ 'mcp-session-id': 'nope' }, '{}')).status).toBe(404);
    expect((await fetch(`${gateway.url}/mcp`)).status).toBe(400);
    expect((await fetch(`${gateway.url}/status`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${gateway.url}/elsewhere`)).status).toBe(404);
    await expect(client.call('nobody_echo')).rejects.toThrow('Unknown tool: "nobody_echo"');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const response = await post({}, Buffer.from(bytes).toString('latin1'));
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 50 },
    );
    expect(gateway.supervisor.connections()).toEqual([]);
    expect((await status()).sessions).toBe(1); // the test's client only: no session leaked
  });

  it('serves only loopback Host names on a loopback address (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        `${gateway.url}/status`,
        { headers: { host: 'attacker.example:80' } },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on('error', reject).end();
    });
    expect(status).toBe(403);
  });
});
