export type { ResolvedAuth } from './auth.js';
export { normalizeSubjectTokenType, resolveAuth } from './auth.js';
export type {
  ConversionContext,
  ConversionOutcome,
  DiscoveredWorkload,
  DiscoveryLogger,
  SkipReason,
  WorkloadRef,
} from './convert.js';
export {
  caBundleConfigMapName,
  discover,
  externalAuthConfigName,
  getWorkloadAsBackend,
  headerForwardIdentifier,
  listWorkloadsInGroup,
  mcpRemoteProxyHealth,
  mcpRemoteProxyToBackend,
  mcpServerEntryHealth,
  mcpServerEntryToBackend,
  mcpServerHealth,
  mcpServerToBackend,
  toBackend,
  workloadGroup,
} from './convert.js';
export type { AuthFailureReason } from './errors.js';
export { AuthResolutionError, InvalidObjectError, WorkloadNotFoundError } from './errors.js';
export type * from './generated/index.generated.js';
export type { ConfigMap, ObjectMeta, Secret } from './object-meta.js';
export type { ReadFailureKind, ReadFailureReason } from './read-failure.js';
export { classifyReadFailure, readFailureReason } from './read-failure.js';
export type { DiscoveryReader, KubeObjectLike, WorkloadKind } from './reader.js';
export { createObjectReader, WORKLOAD_KINDS } from './reader.js';
