/**
 * What the suite's tests and benches that run a sidecar share: the built binary, its command line
 * for the one group they watch, and that group's workloads.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { KubeObject } from '@vmcp/kube-runtime';

/** The sidecar's built binary, found through its package (`pnpm test` and `pnpm bench` build it). */
export const SIDECAR_CLI = join(
  dirname(createRequire(import.meta.url).resolve('@vmcp/backend-watcher/package.json')),
  'dist',
  'cli.js',
);

/** The command line's cluster settings: group `g` of namespace `default` through `kubeconfig`. */
export function clusterArgs(kubeconfig: string): string[] {
  return ['--group', 'g', '--namespace', 'default', '--kubeconfig', kubeconfig];
}

/**
 * `count` Ready MCPServers of group `g` named `s0`, `s1`, ..., each with its own URL and the
 * annotations `annotations(i)` gives (they become the backend's metadata).
 */
export function readyServers(
  count: number,
  annotations: (i: number) => Record<string, string> = () => ({}),
): KubeObject[] {
  return Array.from(
    { length: count },
    (_, i) =>
      ({
        apiVersion: 'toolhive.stacklok.dev/v1beta1',
        kind: 'MCPServer',
        metadata: { name: `s${i}`, annotations: annotations(i) },
        spec: { image: 'example/mcp:1', transport: 'sse', groupRef: { name: 'g' } },
        status: { phase: 'Ready', url: `http://s${i}.default.svc:8080` },
      }) as KubeObject,
  );
}
