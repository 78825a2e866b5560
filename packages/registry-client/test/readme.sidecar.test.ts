import { runExample } from '@vmcp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SidecarCluster, type SidecarProcess } from './support/sidecar.js';

let cluster: SidecarCluster;
let sidecar: SidecarProcess;
beforeAll(async () => {
  cluster = await SidecarCluster.start();
  await cluster.put('fetch');
  await cluster.put('github');
  sidecar = await cluster.startSidecar();
  await cluster.sidecarHolds(sidecar);
});
afterAll(async () => {
  await cluster?.close();
});

describe('the README quick start, run', () => {
  it("follows the sidecar with its token: the names, then each change's version, until SIGTERM", async () => {
    const example = runExample(new URL('../examples/quick-start.ts', import.meta.url), {
      VMCP_SIDECAR_URL: sidecar.url,
      VMCP_API_TOKEN_FILE: cluster.tokenFile,
    });
    try {
      await example.waitForOutput(/^\[ 'fetch', 'github' \]$/m);
      const { version } = await sidecar.list();
      await cluster.put('wiki');
      await example.waitForOutput(/wiki/);
      expect(example.stdout).toBe(
        `[ 'fetch', 'github' ]\n${version + 1} false [ 'fetch', 'github', 'wiki' ]\n`,
      );
      example.kill('SIGTERM');
      expect(await example.exited).toEqual({ code: 0, signal: null });
    } finally {
      example.kill();
    }
  });
});
