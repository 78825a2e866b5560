export type {
  BackendReconcilerOptions,
  Decision,
  FailingRead,
  ReconcilerObserver,
} from './backend-reconciler.js';
export { BackendReconciler } from './backend-reconciler.js';
export type { BackendWatcherOptions } from './backend-watcher.js';
export {
  BackendWatcher,
  DEFAULT_READ_TIMEOUT_MS,
  DEFAULT_RESYNC_PERIOD_MS,
  DEFAULT_WORKERS,
  DURATION_RANGES,
  jitteredResyncMs,
  parseGroupRef,
  RESOURCES,
} from './backend-watcher.js';
export {
  authConfigToRequests,
  CA_BUNDLE_INDEX,
  caBundleIndex,
  configMapToRequests,
  workloadToRequests,
} from './mappers.js';
