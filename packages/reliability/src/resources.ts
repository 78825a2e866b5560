/**
 * The kinds a chaos run writes and the oracle reads: the watcher's own resources table, from which
 * every other kind name of the suite is derived.
 */
import { RESOURCES } from '@vmcp/reconciler';

export { RESOURCES };

/** The ToolHive API group and version of the workloads and auth configs. */
export const API = `${RESOURCES.MCPServer.group}/${RESOURCES.MCPServer.version}`;

/** A kind a run writes or reads. */
export type Kind = keyof typeof RESOURCES;

/** Every kind, in the order of {@link RESOURCES}. */
export const KINDS = Object.keys(RESOURCES) as Kind[];

/** The kinds that can be backends, in upstream's precedence. */
export const WORKLOADS = [
  'MCPServer',
  'MCPRemoteProxy',
  'MCPServerEntry',
] as const satisfies readonly Kind[];
export type WorkloadKind = (typeof WORKLOADS)[number];
