import type { Backend } from '../src/index.js';

/** A minimal valid backend; `overrides` replace fields. */
export function backend(id: string, overrides: Partial<Backend> = {}): Backend {
  return {
    id,
    name: id,
    baseUrl: `http://${id}.default.svc.cluster.local:8080/mcp`,
    transportType: 'streamable-http',
    healthStatus: 'healthy',
    metadata: { tool_type: 'mcp', workload_type: 'mcp_server', namespace: 'default' },
    ...overrides,
  };
}
