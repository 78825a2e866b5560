import { eventually } from '@vmcp/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ExampleServer, startExampleServer } from '../../src/example-server.js';
import { type Gateway, startGateway } from '../../src/gateway.js';
import { openRegistrySource } from '../../src/registry-source.js';
import type { GatewayStatus } from '../../src/status.js';
import { type ApiServer, BackendCluster } from './cluster.js';
import { capturingLogger, FAST_RETRY, toolsOf } from './fixtures.js';
import { GatewayClient } from './gateway-client.js';
import { makeTestPki } from './tls.js';

const SECRET_V1 = 'e2e-header-secret-v1-3f0c7a';
const SECRET_V2 = 'e2e-header-secret-v2-b81d44';

/**
 * The gateway end to end: SDK servers on loopback declared as MCPServerEntries on `start()`'s
 * API server, the built sidecar watching them, the gateway following the sidecar with
 * `@vmcp/registry-client`, and an SDK client connected to the gateway. Run on the fake API server
 * and on envtest: the same behaviour must hold on both.
 */
export function describeGatewayEndToEnd(
  name: string,
  start: () => Promise<ApiServer & { close(): Promise<void> }>,
  onFailure: () => string = () => '',
): void {
  describe(name, () => {
    let api: ApiServer & { close(): Promise<void> };
    let cluster: BackendCluster;
    let gateway: Gateway;
    let client: GatewayClient;
    let expectedKey = SECRET_V1;
    const servers = new Map<string, ExampleServer>();
    const log = capturingLogger();
    const seen: string[] = [];
    const pki = makeTestPki('backends');
    const otherPki = makeTestPki('other');

    async function serve(
      id: string,
      options: Partial<Parameters<typeof startExampleServer>[0]> = {},
    ) {
      const server = await startExampleServer({
        name: id,
        transport: 'streamable-http',
        ...options,
      });
      servers.set(id, server);
      return server;
    }

    async function status(): Promise<GatewayStatus> {
      const text = await (await fetch(`${gateway.url}/status`)).text();
      seen.push(text);
      return JSON.parse(text) as GatewayStatus;
    }

    const toolNames = async (prefix: string) =>
      (await client.toolNames()).filter((tool) => tool.startsWith(`${prefix}_`));

    beforeAll(async () => {
      api = await start();
      cluster = new BackendCluster(api);
      const alpha = await serve('alpha');
      const beta = await serve('beta', { transport: 'sse' });
      await serve('guarded', { requireHeader: { name: 'X-Api-Key', value: () => expectedKey } });
      const secure = await serve('secure', { tls: pki.server });
      await cluster.putSecret('guarded-key', { key: SECRET_V1 });
      await cluster.putHeaderAuth('guarded-auth', 'X-Api-Key', 'guarded-key', 'key');
      await cluster.putConfigMap('backends-ca', { 'ca.crt': pki.caCert });
      await cluster.putConfigMap('other-ca', { 'ca.crt': otherPki.caCert });
      await cluster.putEntry('alpha', { url: alpha.url });
      await cluster.putEntry('beta', { url: beta.url, transport: 'sse' });
      await cluster.putEntry('guarded', {
        url: servers.get('guarded')!.url,
        authConfig: 'guarded-auth',
      });
      await cluster.putEntry('secure', { url: secure.url, caConfigMap: 'backends-ca' });
      await cluster.putEntry('secure-wrong-ca', { url: secure.url, caConfigMap: 'other-ca' });
      const sidecar = await cluster.startSidecar();
      const source = await openRegistrySource(
        { kind: 'sidecar', url: sidecar.url, tokenFile: cluster.tokenFile },
        log.logger,
      );
      gateway = await startGateway({
        source,
        listen: { host: '127.0.0.1', port: 0 },
        logger: log.logger,
        retry: FAST_RETRY,
      });
      client = await GatewayClient.connect(gateway.url);
    });

    afterAll(async () => {
      await client?.close();
      await gateway?.close();
      await cluster?.close();
      await Promise.all([...servers.values()].map((server) => server.close()));
      await api?.close();
    });

    beforeEach(({ onTestFailed }) =>
      onTestFailed(() =>
        console.error(`${onFailure()}\n--- gateway log ---\n${log.text().slice(-6000)}`),
      ),
    );

    it('lists every server tool under its prefix and routes calls to it', async () => {
      await eventually(async () =>
        expect(await client.toolNames()).toEqual(toolsOf('alpha', 'beta', 'guarded', 'secure')),
      );
      expect(await client.call('alpha_echo', 'ping')).toBe('alpha: ping');
      expect(await client.call('beta_whoami')).toBe('beta');
      const { catalog, registry } = await status();
      expect(catalog.tools).toBe(8);
      expect(registry).toMatchObject({ source: 'sidecar', synced: true });
      expect(catalog.registryVersion).toBe(registry.version);
    });

    it('reaches a TLS backend that trusts its CA from a ConfigMap, and fails the one with the wrong CA', async () => {
      expect(await client.call('secure_echo', 'over tls')).toBe('secure: over tls');
      const wrong = await eventually(async () => {
        const backend = (await status()).backends.find((b) => b.id === 'secure-wrong-ca');
        expect(backend).toMatchObject({ state: 'failed', tools: 0 });
        return backend;
      });
      expect(wrong?.reason).toMatch(/certificate|CERT/i);
    });

    it('reaches the header-protected server with the Secret value, and the new value after a rotation', async () => {
      expect(await client.call('guarded_whoami')).toBe('guarded');
      const guarded = servers.get('guarded')!;
      expect(guarded.headerValues.at(-1)).toBe(SECRET_V1);

      expectedKey = SECRET_V2;
      await cluster.putSecret('guarded-key', { key: SECRET_V2 });
      await eventually(
        async () => expect(await client.call('guarded_whoami')).toBe('guarded'),
        60_000,
      );
      expect(guarded.headerValues.at(-1)).toBe(SECRET_V2);
    });

    it('drops the tools of a backend deleted from the cluster, and adds those of a new one', async () => {
      await eventually(async () => expect(await toolNames('alpha')).toHaveLength(2));
      let before = client.listChanged;
      await cluster.deleteEntry('alpha');
      await eventually(() => client.listChanged > before);
      await eventually(async () => expect(await toolNames('alpha')).toEqual([]));

      before = client.listChanged;
      await cluster.putEntry('alpha-again', { url: servers.get('alpha')!.url });
      await eventually(() => client.listChanged > before);
      await eventually(async () =>
        expect(await toolNames('alpha-again')).toEqual(toolsOf('alpha-again')),
      );
      expect(await client.call('alpha-again_echo', 'hi')).toBe('alpha: hi');
    });

    it('takes a stopped server out of the catalog and back when it returns', async () => {
      const beta = servers.get('beta')!;
      const before = client.listChanged;
      await beta.close();
      await eventually(async () => expect(await toolNames('beta')).toEqual([]));
      expect(client.listChanged).toBeGreaterThan(before);
      expect((await status()).backends.find((b) => b.id === 'beta')?.state).toMatch(
        /failed|connecting/,
      );

      await serve('beta', { transport: 'sse', port: beta.port });
      await eventually(async () => expect(await toolNames('beta')).toEqual(toolsOf('beta')));
      expect(await client.call('beta_echo', 'back')).toBe('beta: back');
    });

    it('never shows a secret value in its logs, its status or its errors', async () => {
      expectedKey = 'a-value-nobody-has'; // calls are refused now: errors are produced and logged
      const refused = await client.call('guarded_whoami').catch((error: Error) => error.message);
      await eventually(async () => {
        const guarded = (await status()).backends.find((b) => b.id === 'guarded');
        expect(guarded?.state).toMatch(/failed|connecting/);
      });
      const everything = [log.text(), cluster.sidecarOutput(), refused, ...seen].join('\n');
      expect(everything).not.toContain(SECRET_V1);
      expect(everything).not.toContain(SECRET_V2);
      expect(everything).toContain('guarded');
    });
  });
}
