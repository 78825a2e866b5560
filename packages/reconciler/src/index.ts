export type {
  BackendReconcilerOptions,
  Decision,
  ReconcilerObserver,
} from './backend-reconciler.js';
export { BackendReconciler } from './backend-reconciler.js';
export type { BackendWatcherOptions } from './backend-watcher.js';
export { BackendWatcher, parseGroupRef, RESOURCES } from './backend-watcher.js';
export {
  authConfigToRequests,
  CA_BUNDLE_INDEX,
  caBundleIndex,
  configMapToRequests,
  workloadToRequests,
} from './mappers.js';
