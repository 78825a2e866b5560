import { createServer } from 'node:net';
import { startFakeApiServer } from '@vmcp/fake-apiserver';
import { eventually } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { describe, expect, it } from 'vitest';
import { startExampleServer } from '../src/example-server.js';
import type { GatewayStatus } from '../src/status.js';
import { BackendCluster } from './support/cluster.js';
import { toolsOf } from './support/fixtures.js';
import { GatewayClient } from './support/gateway-client.js';
import { runGateway, startGatewayProcess } from './support/gateway-process.js';

/** `vmcp-gateway` as a process: exit codes, one-line errors, and the sidecar form end to end. */
describe('vmcp-gateway (the command)', () => {
  it('prints its usage for --help and exits 0', async () => {
    const gateway = runGateway(['--help']);
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(gateway.stdout).toContain('Usage: vmcp-gateway --registry URL');
  });

  it.each([
    [['--registry', 'http://127.0.0.1:1'], 'vmcp-gateway: --listen HOST:PORT is required\n'],
    [
      ['--registry', 'ftp://x', '--listen', '127.0.0.1:0'],
      'vmcp-gateway: --registry "ftp://x" is not an http(s) URL\n',
    ],
    [
      [
        '--registry',
        'http://127.0.0.1:1',
        '--token-file',
        '/nonexistent/token',
        '--listen',
        '127.0.0.1:0',
      ],
      'vmcp-gateway: cannot read --token-file "/nonexistent/token": ENOENT\n',
    ],
    [
      [
        '--kubeconfig',
        '/nonexistent/config',
        '--group',
        'g',
        '--namespace',
        'n',
        '--listen',
        '127.0.0.1:0',
      ],
      'vmcp-gateway: cannot load --kubeconfig "/nonexistent/config": ENOENT\n',
    ],
  ])('refuses %j with exit code 2 and one line', async (args, stderr) => {
    const gateway = runGateway(args);
    expect(await gateway.exited).toEqual({ code: 2, signal: null });
    expect(gateway.stderr).toBe(stderr);
  });

  it('exits 1 with one line when its address is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const gateway = runGateway([
        '--registry',
        'http://127.0.0.1:1',
        '--listen',
        `127.0.0.1:${port}`,
      ]);
      expect(await gateway.exited).toEqual({ code: 1, signal: null });
      expect(gateway.stderr).toMatch(/^vmcp-gateway: listen EADDRINUSE.*\n$/);
    } finally {
      taken.close();
    }
  });

  it('follows a sidecar with its token, serves its backends, and stops on SIGTERM', async () => {
    await using fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
    await using cluster = new BackendCluster(fake);
    await using alpha = await startExampleServer({ name: 'alpha', transport: 'streamable-http' });
    await cluster.putEntry('alpha', { url: alpha.url });
    const sidecar = await cluster.startSidecar();
    const { gateway, url } = await startGatewayProcess([
      '--registry',
      sidecar.url,
      '--token-file',
      cluster.tokenFile,
      '--listen',
      '127.0.0.1:0',
    ]);
    try {
      await using client = await GatewayClient.connect(url);
      await eventually(async () => expect(await client.toolNames()).toEqual(toolsOf('alpha')));
      const status = (await (await fetch(`${url}/status`)).json()) as GatewayStatus;
      expect(status).toMatchObject({
        registry: { source: 'sidecar', synced: true },
        catalog: { tools: 2 },
        backends: [{ id: 'alpha', state: 'connected', tools: 2 }],
      });
    } finally {
      gateway.kill('SIGTERM');
    }
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(gateway.logs().map((line) => line.msg)).toContain('shutting down');
  });
});
