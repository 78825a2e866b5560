// #region readme
import { createDynamicRegistry, VersionedCache } from '@vmcp/registry';

const registry = createDynamicRegistry();
registry.upsert({
  id: 'fetch',
  name: 'fetch',
  baseUrl: 'http://fetch:8080/mcp',
  transportType: 'streamable-http',
  healthStatus: 'healthy',
  metadata: {},
});

// Consumer side: recomputed only when registry.version moved since the last read.
const names = new VersionedCache(registry, () => registry.list().map((backend) => backend.name));
console.log(registry.version, await names.get()); // 1 [ 'fetch' ]

// Change feed: every change after now, in order, for as long as you iterate.
setTimeout(() => registry.remove('fetch'));
for await (const { version, upserted, removed } of registry.changes()) {
  console.log(version, upserted.length, removed.length); // 2 0 1
  break;
}
// #endregion readme
