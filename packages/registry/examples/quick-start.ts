// Stand-ins for the reader's own program.
declare const signal: AbortSignal;
declare function aggregateTools(backends: readonly object[]): string[];

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
const tools = new VersionedCache(registry, () => aggregateTools(registry.list()));
await tools.get();

// Change feed: every change, in order, for as long as you iterate.
for await (const { version, upserted, removed } of registry.changes({ signal })) {
  console.log(version, upserted.length, removed.length);
}
// #endregion readme
