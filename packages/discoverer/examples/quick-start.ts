import type { KubeObjectLike } from '@vmcp/discoverer';
import type { DynamicRegistry } from '@vmcp/registry';

// Stand-ins for the reader's own program.
declare const objects: KubeObjectLike[];
declare const server: KubeObjectLike;
declare const registry: DynamicRegistry;

// #region readme
import { createObjectReader, discover, mcpServerToBackend } from '@vmcp/discoverer';

const reader = createObjectReader(objects); // or your own DiscoveryReader (cache + Secret GET)
const outcome = await mcpServerToBackend(server, { reader, group: 'engineering' });
if (outcome.kind === 'backend') registry.upsert(outcome.backend);
else console.log(outcome.kind === 'skip' ? outcome.reason : outcome.error.message);

const { backends, workloads } = await discover(reader, 'tools', 'engineering');
console.log(`${backends.length} backends from ${workloads.length} workloads of the group`);
// #endregion readme
