import { type Env, startEnv } from '@vmcp/envtest';
import { eventually } from '@vmcp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleServer } from '../src/example-server.js';
import type { GatewayStatus } from '../src/status.js';
import { BackendCluster, GROUP } from './support/cluster.js';
import { toolsOf } from './support/fixtures.js';
import { GatewayClient } from './support/gateway-client.js';
import { startGatewayProcess } from './support/gateway-process.js';
import { describeGatewayEndToEnd } from './support/scenarios.js';

/** One real kube-apiserver for the file: the sidecar scenarios, then the in-process watcher. */
let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

describeGatewayEndToEnd(
  'gateway behind the built sidecar, on envtest',
  async () => ({
    kubeConfig: env.kubeConfig,
    kubeconfigPath: env.kubeconfigPath,
    close: async () => {},
  }),
  () => env.logs(40),
);

describe('vmcp-gateway --kubeconfig (a BackendWatcher in the gateway), on envtest', () => {
  const SECRET = 'cli-header-secret-2d9e11';

  it('serves the group of its namespace, routes calls with the Secret header, and follows deletes', async () => {
    await using cluster = new BackendCluster(
      { kubeConfig: env.kubeConfig, kubeconfigPath: env.kubeconfigPath },
      'gateway-cli',
    );
    await cluster.createNamespace();
    await using weather = await startExampleServer({
      name: 'weather',
      transport: 'streamable-http',
      requireHeader: { name: 'Authorization', value: () => `Bearer ${SECRET}` },
    });
    await cluster.putSecret('weather-token', { token: `Bearer ${SECRET}` });
    await cluster.putHeaderAuth('weather-auth', 'Authorization', 'weather-token', 'token');
    await cluster.putEntry('weather', { url: weather.url, authConfig: 'weather-auth' });

    const { gateway, url } = await startGatewayProcess([
      '--kubeconfig',
      env.kubeconfigPath,
      '--group',
      GROUP,
      '--namespace',
      'gateway-cli',
      '--listen',
      '127.0.0.1:0',
    ]);
    try {
      await using client = await GatewayClient.connect(url);
      await eventually(async () => expect(await client.toolNames()).toEqual(toolsOf('weather')));
      expect(await client.call('weather_echo', 'rain?')).toBe('weather: rain?');
      const status = (await (await fetch(`${url}/status`)).json()) as GatewayStatus;
      expect(status.registry).toMatchObject({ source: 'kubernetes', synced: true });

      const before = client.listChanged;
      await cluster.deleteEntry('weather');
      await eventually(() => client.listChanged > before);
      expect(await client.toolNames()).toEqual([]);
    } finally {
      gateway.kill('SIGTERM');
    }
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(gateway.stdout + gateway.stderr).not.toContain(SECRET);
  });
});
