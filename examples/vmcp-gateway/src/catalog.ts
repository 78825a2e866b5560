/**
 * The gateway's catalog: the tools of every connected backend under `<backend id>_<tool name>`
 * (upstream vMCP's default prefix strategy), and the route of each name back to its backend and
 * original name. Pure: built from the connections' states, compared by value.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { deepEqual } from '@vmcp/registry';
import type { ConnectionState } from './connection-state.js';

/** Between the backend id and the tool's own name. */
export const PREFIX_SEPARATOR = '_';

/** Where a catalog name goes: the owning backend and the tool's name there. */
export interface Route {
  readonly backendId: string;
  readonly toolName: string;
}

/** What the gateway serves at one moment. */
export interface Catalog {
  /** The registry version whose backends it was built from (undefined before the first). */
  readonly registryVersion: number | undefined;
  /** Tools as served: each a backend's tool with its prefixed name, sorted by name. */
  readonly tools: readonly Tool[];
  /** Names that two backends' tools map to (the first by backend id keeps it). */
  readonly conflicts: readonly string[];
  /** The backend and original name of a served tool name. */
  route(name: string): Route | undefined;
}

/** `<backend id>_<tool name>`. */
export function prefixedName(backendId: string, toolName: string): string {
  return `${backendId}${PREFIX_SEPARATOR}${toolName}`;
}

/**
 * The catalog of `backends` (sorted by id) at `registryVersion`: the tools of connected ones,
 * renamed. Backend ids are Kubernetes names, which hold no `_`, so two backends' names cannot
 * collide; a registry of other origin could, and then the first backend by id keeps the name
 * and the conflict is reported.
 */
export function buildCatalog(
  backends: Iterable<{ readonly id: string; readonly state: ConnectionState }>,
  registryVersion: number | undefined,
): Catalog {
  const routes = new Map<string, Route>();
  const tools: Tool[] = [];
  const conflicts: string[] = [];
  for (const { id, state } of backends) {
    if (state.phase !== 'connected') continue;
    for (const tool of state.tools) {
      const name = prefixedName(id, tool.name);
      if (routes.has(name)) {
        conflicts.push(name);
        continue;
      }
      routes.set(name, { backendId: id, toolName: tool.name });
      tools.push({ ...tool, name });
    }
  }
  tools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { registryVersion, tools, conflicts, route: (name) => routes.get(name) };
}

/** True when two catalogs serve the same tools (names and definitions): no notification due. */
export function sameTools(a: Catalog, b: Catalog): boolean {
  return deepEqual(a.tools, b.tools);
}
