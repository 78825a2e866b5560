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
