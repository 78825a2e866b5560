import { join } from 'node:path';
import { type Env, startEnv } from '@vmcp/envtest';
import { runExample } from '@vmcp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, ResourceClient } from '../src/index.js';

// kube-runtime cannot depend on the fake API server (which depends on it): the quick start runs
// against the real one.
let env: Env;
beforeAll(async () => {
  env = await startEnv();
  const client = new KubeClient(env.kubeConfig);
  const namespaces = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };
  await new ResourceClient(client, { ...namespaces, namespaced: false }).create({
    metadata: { name: 'tools' },
  });
  const servers = { group: 'toolhive.stacklok.dev', version: 'v1beta1', plural: 'mcpservers' };
  await new ResourceClient(client, { ...servers, kind: 'MCPServer' }, 'tools').create({
    apiVersion: 'toolhive.stacklok.dev/v1beta1',
    kind: 'MCPServer',
    metadata: { name: 'fetch', namespace: 'tools' },
    spec: { image: 'example/fetch:1', transport: 'streamable-http' },
  });
  await client.close();
});
afterAll(async () => {
  await env?.stop();
});

describe('the README quick start, run', () => {
  it('loads the kubeconfig of $KUBECONFIG, reconciles the MCPServer, says synced, and stops on SIGTERM', async () => {
    // An empty HOME: the kubeconfig can only come from $KUBECONFIG.
    const home = join(env.kubeconfigPath, '..');
    const example = runExample(new URL('../examples/quick-start.ts', import.meta.url), {
      KUBECONFIG: env.kubeconfigPath,
      HOME: home,
    });
    try {
      await example.waitForOutput(/^synced$/m);
      await example.waitForOutput(/^reconcile tools\/fetch$/m);
      example.kill('SIGTERM');
      expect(await example.exited).toEqual({ code: 0, signal: null });
      // console is the logger: importKubeConfig's one line says how it loaded KubeConfig.
      expect(example.stdout).toMatch(
        /^\{ load: 'slim' \} client-node's KubeConfig loaded without its generated API models$/m,
      );
    } finally {
      example.kill();
    }
  });
});
