/**
 * A small tour of @vmcp/registry: a dynamic registry, a consumer cache that recomputes lazily
 * when the version moves, and the change feed.
 */
import { type Backend, createDynamicRegistry, VersionedCache } from '../src/index.js';

const registry = createDynamicRegistry();
const toolIndex = new VersionedCache(registry, (version) => {
  console.log(`  (recomputing the derived tool index at version ${version})`);
  return registry.list().map((b) => `${b.id} → ${b.baseUrl} [${b.healthStatus}]`);
});

const feed = (async () => {
  for await (const change of registry.changes()) {
    console.log(
      `change v${change.version}: upserted [${change.upserted.map((b) => b.id).join(', ')}] removed [${change.removed.join(', ')}]`,
    );
  }
})();

const server = (id: string, healthStatus: Backend['healthStatus'] = 'healthy'): Backend => ({
  id,
  name: id,
  baseUrl: `http://${id}.tools.svc.cluster.local:8080/mcp`,
  transportType: 'streamable-http',
  healthStatus,
  metadata: { tool_type: 'mcp', workload_type: 'mcp_server', namespace: 'tools' },
});

const step = async (label: string, action: () => void) => {
  console.log(`\n> ${label}`);
  action();
  await new Promise((resolve) => setImmediate(resolve));
  console.log(`  version ${registry.version}, index:`, await toolIndex.get());
};

await step('upsert fetch and github', () => {
  registry.upsert(server('fetch'));
  registry.upsert(server('github'));
});
await step('upsert fetch again with identical content (no new version)', () => {
  registry.upsert(server('fetch'));
});
await step('github becomes unhealthy', () => registry.upsert(server('github', 'unhealthy')));
await step('a relist: add jira and remove fetch in one atomic step', () => {
  registry.apply([
    { op: 'upsert', backend: server('jira') },
    { op: 'remove', id: 'fetch' },
  ]);
});
console.log(`\nreading the index twice more costs no recompute:`, (await toolIndex.get()).length);
console.log(`computations in total: ${toolIndex.computations}`);
void feed;
process.exit(0);
