/**
 * W1, the workload of the benchmarks: MCPServers of group `bench`, each with a Ready status and
 * a URL once `readyW1` has run.
 */
import type { KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { inParallel } from './measure.js';

/** One W1 MCPServer as created (its status is a subresource, set by {@link readyW1}). */
export function w1Server(name: string): KubeObject {
  return {
    apiVersion: 'toolhive.stacklok.dev/v1beta1',
    kind: 'MCPServer',
    metadata: { name },
    spec: {
      image: 'ghcr.io/example/fetch:1',
      transport: 'streamable-http',
      groupRef: { name: 'bench' },
    },
  };
}

/** Gives created W1 MCPServers their Ready status and URL, 32 at a time. */
export async function readyW1(servers: ResourceClient, names: readonly string[]): Promise<void> {
  await inParallel(names, 32, async (name) => {
    await servers.patchStatus(name, {
      status: { phase: 'Ready', url: `http://${name}.${servers.namespace}.svc:8080` },
    });
  });
}
