export type { BackoffOptions } from './backoff.js';
export { Backoff } from './backoff.js';
export type {
  ListOptions,
  ObjectList,
  ResourceClientOptions,
  Status,
  WatchResponse,
} from './client.js';
export {
  ApiError,
  isConflict,
  isGone,
  isNotFound,
  isTooLargeResourceVersion,
  KubeClient,
  RequestTimeoutError,
  ResourceClient,
  resourcePath,
} from './client.js';
export type { Clock } from './clock.js';
export { FakeClock, systemClock } from './clock.js';
export type {
  ControllerMetrics,
  ControllerOptions,
  MapFunction,
  ReconcileContext,
  ReconcileResult,
  Reconciler,
} from './controller.js';
export { Controller, TerminalError } from './controller.js';
export type { InformerOptions, ListWatchInformerHandle } from './informer.js';
export { createInformer, InformerFactory } from './informer.js';
export type { KubeConfigLoad } from './kubeconfig.js';
export { importKubeConfig, loadKubeConfigModule } from './kubeconfig.js';
export { type ListMetadata, ListScanner } from './list-scanner.js';
export type { Check, CheckReport, ManagerOptions } from './manager.js';
export { Manager } from './manager.js';
export type { WatchMetrics } from './metrics.js';
export { RuntimeMetrics } from './metrics.js';
export type { RateLimiter } from './ratelimiter.js';
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from './ratelimiter.js';
export type { StoreChange, StoreReplacement } from './store.js';
export {
  dropApplyMetadata,
  dropManagedFields,
  keyOf,
  LAST_APPLIED_ANNOTATION,
  Store,
} from './store.js';
export type {
  EventHandler,
  HandlerRegistration,
  Informer,
  KubeObject,
  Logger,
  ObjectKey,
  ObjectMeta,
  ReadonlyStore,
  ResourceRef,
} from './types.js';
export { silentLogger } from './types.js';
export type {
  WatchEvent,
  WatcherInput,
  WatcherOptions,
  WatcherState,
  WatchObserver,
  WatchSink,
} from './watcher.js';
export { runWatcher, transition, watch } from './watcher.js';
export type { WorkQueueMetrics, WorkQueueOptions } from './workqueue.js';
export { WorkQueue } from './workqueue.js';
