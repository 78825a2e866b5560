export type {
  AwsStsRoleMapping,
  AwsStsStrategy,
  Backend,
  BackendAuthStrategy,
  BackendCrdStatus,
  BackendHealthStatus,
  BackendType,
  HeaderForward,
  HeaderInjectionStrategy,
  TokenExchangeStrategy,
  TransportType,
  UnauthenticatedStrategy,
  UpstreamInjectStrategy,
  XaaStrategy,
} from './backend.js';
export {
  AUTH_STRATEGY_TYPES,
  BACKEND_HEALTH_STATUSES,
  TRANSPORT_TYPES,
  toCrdStatus,
} from './backend.js';
export type { RegistryChange } from './change-log.js';
export { InvalidBackendError } from './errors.js';
export { REDACTED, redactAuthStrategy, redactBackend } from './redact.js';
export type {
  BackendRegistry,
  ChangesOptions,
  DynamicRegistry,
  DynamicRegistryOptions,
  RegistryOperation,
  RegistryReader,
  RegistrySnapshot,
  WaitOptions,
} from './registry.js';
export { createDynamicRegistry, createImmutableRegistry } from './registry.js';
export type {
  RegistryReplica,
  RegistryReplicaOptions,
  ReplicaUpdateOptions,
} from './replica.js';
export { createRegistryReplica } from './replica.js';
export { deepEqual } from './values.js';
export type { Versioned } from './versioned-cache.js';
export { memoByVersion, VersionedCache } from './versioned-cache.js';
