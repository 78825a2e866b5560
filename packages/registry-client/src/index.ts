export type { BackoffOptions } from './backoff.js';
export type { RegistryClient } from './client.js';
export { connectRegistry } from './client.js';
export type { Clock } from './clock.js';
export type { ConnectionPhase, Transport, TransportMode } from './connection.js';
export type { RegistryClientErrorReason } from './errors.js';
export { RegistryClientError } from './errors.js';
export type { LogFn, Logger, MetricsRegistry, RegistryClientOptions } from './options.js';
export type { RegistryClientStatus } from './status.js';
