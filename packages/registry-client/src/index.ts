export type {
  LogFn,
  Logger,
  MetricsRegistry,
  RegistryClient,
  RegistryClientOptions,
  RegistryClientStatus,
} from './client.js';
export { connectRegistry } from './client.js';
export type { Clock } from './clock.js';
export type {
  BackoffOptions,
  ConnectionPhase,
  Transport,
  TransportMode,
} from './connection.js';
export type { RegistryClientErrorReason } from './errors.js';
export { RegistryClientError } from './errors.js';
