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
export type { WorkQueueMetrics, WorkQueueOptions } from './workqueue.js';
export { WorkQueue } from './workqueue.js';
