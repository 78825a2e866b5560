/**
 * @vmcp/kube-runtime: a Kubernetes controller runtime for Node. This file is the whole public
 * API; everything else is internal. Test helpers (`FakeClock`, `readonlyStoreOf`) are in
 * `@vmcp/kube-runtime/testing`.
 */

// Watching: list → watch → relist, as a push sink or an async iterator.
export type { BackoffOptions } from './backoff.js';
// Transport: typed REST calls and the API server's errors.
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
} from './client.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type {
  ControllerMetrics,
  ControllerOptions,
  MapFunction,
  ReconcileContext,
  ReconcileResult,
  Reconciler,
} from './controller.js';
export { Controller, TerminalError } from './controller.js';
// Counts (workers, concurrency): the same rule, whole numbers in a stated range.
export type { CountRange } from './count.js';
export { checkCount } from './count.js';
// Transforms: what an object becomes before it enters an informer's cache.
export type { FieldPath } from './drop-before-parse.js';
export { APPLY_METADATA_FIELDS } from './drop-before-parse.js';
// Durations: the range check every duration option goes through.
export type { DurationRange } from './duration.js';
export { checkDuration, DurationRangeError, formatDuration } from './duration.js';
// Informers: a watch into a read-only cache, with handlers.
export type { InformerOptions, ListWatchInformerHandle } from './informer.js';
export { createInformer, InformerFactory } from './informer.js';
export { importKubeConfig } from './kubeconfig.js';
export type { Check, CheckReport, ManagerOptions } from './manager.js';
export { Manager } from './manager.js';
// Metrics.
export type { WatchMetrics } from './metrics.js';
export { RuntimeMetrics } from './metrics.js';
export type { PromClient } from './prom-client.js';
export { loadPromClient } from './prom-client.js';
// Work queue, rate limiters, controller and manager.
export type { RateLimiter } from './ratelimiter.js';
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from './ratelimiter.js';
export type { Transform } from './transform.js';
export {
  dropApplyMetadata,
  dropManagedFields,
  keepIdentity,
  LAST_APPLIED_ANNOTATION,
} from './transform.js';
// Objects, keys and the contracts shared by every part.
export type {
  EventHandler,
  HandlerRegistration,
  Informer,
  KubeObject,
  LogFn,
  Logger,
  ObjectKey,
  ObjectMeta,
  ReadonlyStore,
  ResourceRef,
} from './types.js';
export { childLogger, silentLogger } from './types.js';
export type { WatchEvent, WatcherOptions, WatchObserver, WatchSink } from './watcher.js';
export { checkWatcherOptions, runWatcher, watch } from './watcher.js';
export type { WorkQueueMetrics, WorkQueueOptions } from './workqueue.js';
export { WorkQueue } from './workqueue.js';
