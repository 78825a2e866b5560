/**
 * The resources a chaos run writes and the oracle reads, by kind: the one list every other kind
 * name of the suite is derived from.
 */
import type { ResourceRef } from '@vmcp/kube-runtime';

/** The ToolHive API group and version of the workloads and auth configs. */
export const API = 'toolhive.stacklok.dev/v1beta1';

const toolhive = (plural: string, kind: string): ResourceRef => ({
  group: 'toolhive.stacklok.dev',
  version: 'v1beta1',
  plural,
  kind,
});

/** Every resource of a run, by kind. */
export const RESOURCES = Object.freeze({
  MCPServer: toolhive('mcpservers', 'MCPServer'),
  MCPRemoteProxy: toolhive('mcpremoteproxies', 'MCPRemoteProxy'),
  MCPServerEntry: toolhive('mcpserverentries', 'MCPServerEntry'),
  MCPExternalAuthConfig: toolhive('mcpexternalauthconfigs', 'MCPExternalAuthConfig'),
  Secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' } as ResourceRef,
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' } as ResourceRef,
});

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
