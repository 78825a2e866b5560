import { writeFileSync } from 'node:fs';
import { startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { inParallel } from './measure.js';

const count = Number(process.argv[2] ?? 5000);
const env = await startEnv({ timeoutMs: 120_000 });
const client = new KubeClient(env.kubeConfig);
const servers = new ResourceClient(
  client,
  { group: 'toolhive.stacklok.dev', version: 'v1beta1', plural: 'mcpservers', kind: 'MCPServer' },
  'default',
);
await inParallel(
  Array.from({ length: count }, (_, i) => `bench-${i}`),
  32,
  async (name) => {
    await servers.create({
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPServer',
      metadata: { name },
      spec: {
        image: 'ghcr.io/example/fetch:1',
        transport: 'streamable-http',
        groupRef: { name: 'bench' },
      },
    } as KubeObject);
    await servers.patchStatus(name, {
      status: { phase: 'Ready', url: `http://${name}.default.svc:8080` },
    });
  },
);
await client.requestJson('POST', '/api/v1/namespaces', {
  body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } },
});
writeFileSync('/tmp/perf/env.kubeconfig', env.kubeconfigPath);
console.log('ready', env.kubeconfigPath);
process.on('SIGTERM', async () => {
  await client.close();
  await env.stop();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
