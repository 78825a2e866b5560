// Where a BackendWatcher's kubeConfig comes from, without a dependency of the program's own:
// client-node's KubeConfig class, loaded without its generated API models.
export { importKubeConfig } from '@vmcp/kube-runtime';
export type { AuthResolution } from './auth-resolution.js';
export { authSourceOf, resolveBackendAuth, withOutgoingAuth } from './auth-resolution.js';
export type {
  AuthStrategyConfig,
  AuthStrategyType,
  ConfiguredStrategy,
  OAuthClientConfig,
} from './auth-strategy-config.js';
export { AUTH_STRATEGY_CONFIG_TYPES, parseAuthStrategy } from './auth-strategy-config.js';
export type {
  BackendReconcilerOptions,
  Decision,
  DecisionRecord,
  OtherGroupWorkload,
  ReconcilerObserver,
} from './backend-reconciler.js';
export { BackendReconciler } from './backend-reconciler.js';
export type { BackendWatcherOptions } from './backend-watcher.js';
export {
  BackendWatcher,
  DEFAULT_INITIAL_SYNC_TIMEOUT_MS,
  DEFAULT_READ_TIMEOUT_MS,
  DEFAULT_RESYNC_PERIOD_MS,
  DEFAULT_SECRET_REFRESH_PERIOD_MS,
  DEFAULT_WORKERS,
  DURATION_RANGES,
  jitteredResyncMs,
  parseGroupRef,
  RESOURCES,
  WORKERS_RANGE,
} from './backend-watcher.js';
export type { Environment } from './config-values.js';
export { OutgoingAuthConfigError } from './config-values.js';
export type { FailingRead } from './failing-reads.js';
export type { WorkloadStores } from './mappers.js';
export {
  authConfigToRequests,
  CA_BUNDLE_INDEX,
  caBundleIndex,
  configMapToRequests,
  workloadToRequests,
} from './mappers.js';
export type {
  OutgoingAuthConfig,
  OutgoingAuthSource,
  ParseOutgoingAuthOptions,
} from './outgoing-auth.js';
export { OutgoingAuth, parseOutgoingAuth } from './outgoing-auth.js';
export type { SecretDependencies } from './secret-dependencies.js';
