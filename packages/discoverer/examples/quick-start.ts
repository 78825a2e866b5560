// #region readme
import { createObjectReader, discover, mcpServerToBackend } from '@vmcp/discoverer';

// Objects as the API server returns them: from your informers' caches, or YAML files.
const ready = {
  apiVersion: 'toolhive.stacklok.dev/v1beta1',
  kind: 'MCPServer',
  metadata: { name: 'fetch', namespace: 'tools' },
  spec: { image: 'example/fetch', transport: 'streamable-http', groupRef: { name: 'engineering' } },
  status: { phase: 'Ready', url: 'http://fetch.tools.svc.cluster.local:8080' },
};
const pending = { ...ready, metadata: { name: 'pending', namespace: 'tools' }, status: {} };

const reader = createObjectReader([ready, pending]); // or your own DiscoveryReader
for (const server of [ready, pending]) {
  const outcome = await mcpServerToBackend(server, { reader, group: 'engineering' });
  if (outcome.kind === 'backend') console.log(outcome.backend.id, outcome.backend.baseUrl);
  else console.log(server.metadata.name, outcome.kind === 'skip' ? outcome.reason : outcome.kind);
}
// fetch http://fetch.tools.svc.cluster.local:8080
// pending no-url

const { backends, workloads } = await discover(reader, 'tools', 'engineering');
console.log(`${backends.length} of ${workloads.length} workloads of the group are backends`); // 1 of 2
// #endregion readme
