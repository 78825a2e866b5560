/**
 * A service in another container of the vMCP pod, following the sidecar's registry with
 * @vmcp/registry-client: it waits for the sidecar to be ready, keeps a derived view (a routing
 * table by transport) recomputed only when the registry version moves, and prints each change.
 *
 *   npx --yes pnpm@10.34.9 demo                                         # terminal 1
 *   npx --yes pnpm@10.34.9 --filter @vmcp/example-registry-client start  # terminal 2
 *
 * Then `kubectl apply`/`delete` against the demo's kubeconfig and watch both follow. Arguments:
 * the sidecar's URL (default http://127.0.0.1:8080, the demo's); VMCP_API_TOKEN, the sidecar's
 * API token, to see secret values (the demo sets none: they stay [REDACTED]).
 */
import { type Backend, memoByVersion } from '@vmcp/registry';
import { connectRegistry } from '@vmcp/registry-client';

const url = process.argv[2] ?? 'http://127.0.0.1:8080';
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

await using registry = connectRegistry({
  url,
  signal: stop.signal,
  ...(process.env.VMCP_API_TOKEN ? { token: process.env.VMCP_API_TOKEN } : {}),
});
console.log(`following ${url} (Ctrl-C to stop)`);
if (!(await registry.waitForSync({ timeoutMs: 60_000, signal: stop.signal }).catch(() => false))) {
  console.error(
    `${url} was not ready within 60 s: ${registry.status().error?.message ?? 'is it running?'}`,
  );
  process.exit(1);
}

// Derived data, as a vMCP server derives its aggregated capabilities: computed on the first read
// after the version moved, never on the change itself, and shared by every reader of a version.
const routes = memoByVersion(registry, (version) => {
  const byTransport = new Map<string, string[]>();
  for (const backend of registry.list()) {
    const ids = byTransport.get(backend.transportType) ?? [];
    ids.push(`${backend.id}${authOf(backend)}`);
    byTransport.set(backend.transportType, ids);
  }
  return { version, byTransport };
});

function authOf(backend: Backend): string {
  return backend.authConfig ? ` (${backend.authConfig.type})` : '';
}

async function print(): Promise<void> {
  const { version, byTransport } = await routes();
  const { access, transport } = registry.status();
  console.log(
    `version ${version}: ${registry.count()} backend(s) by ${transport}, secrets ${access}`,
  );
  for (const [transportType, ids] of byTransport)
    console.log(`  ${transportType}: ${ids.join(', ')}`);
}

await print();
for await (const change of registry.changes({ signal: stop.signal })) {
  console.log(
    change.reset
      ? `reset at version ${change.version} (the sidecar restarted or was out of reach)`
      : `change ${change.version}: upserted [${change.upserted.map((b) => b.id).join(', ')}] removed [${change.removed.join(', ')}]`,
  );
  await print();
}
