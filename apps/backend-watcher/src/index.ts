export type { Access } from './auth.js';
export { TokenCheck } from './auth.js';
export type { Command, DemoConfig, Listen, LogLevel, RunConfig } from './config.js';
export {
  fallbackNamespace,
  parseCommand,
  parseDuration,
  parseListen,
  readTokenFile,
  USAGE,
  UsageError,
} from './config.js';
export type { Explanation } from './explain.js';
export { directReader, explain, formatExplanation, isBackend } from './explain.js';
export type { ApiServer, ApiServerOptions } from './http.js';
export { createApiServer } from './http.js';
export { contextNamespace, loadKubeConfig } from './kubeconfig.js';
export { createLogger, SECRET_LOG_PATHS, version } from './logger.js';
export { applyManifests, readManifests, resourceOf } from './manifests.js';
export type { Sidecar, SidecarOptions } from './sidecar.js';
export { ListenError, restartSafeVersion, startSidecar } from './sidecar.js';
