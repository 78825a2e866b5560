/**
 * @vmcp/backend-watcher as a library: run the sidecar in-process (`startSidecar`), serve a
 * registry over the sidecar's HTTP API without a cluster (`createApiServer`), explain why a name
 * is or is not a backend (`explain`), read a vMCP config file (`loadVmcpConfig`), and the sidecar's logger with its secret censoring
 * (`createLogger`). The command line, `vmcp-backend-watcher`, is the product; everything else in
 * src/ (flag parsing, the HTTP server's parts, manifests, the demo) is internal to it.
 */

// Where a sidecar's kubeConfig comes from, without a dependency of the program's own.
export { importKubeConfig } from '@vmcp/kube-runtime';
export type { ConfigStatus } from './config-reload.js';
export type { Explanation } from './explain.js';
export { explain, formatExplanation, isBackend } from './explain.js';
export type { ApiServer, ApiServerOptions, Explain, ExplainOptions } from './http.js';
export { createApiServer, SERVER_LIMITS } from './http.js';
export { createLogger } from './logger.js';
export type { Sidecar, SidecarOptions } from './sidecar.js';
export { ListenError, restartSafeVersion, startSidecar } from './sidecar.js';
export type { VmcpConfig } from './vmcp-config.js';
export { loadVmcpConfig, VmcpConfigError } from './vmcp-config.js';
