export { CommandError, runCommand } from './command.js';
export type { EventuallyOptions } from './eventually.js';
export { EVENTUALLY_TIMEOUT_MS, eventually, NotMetError } from './eventually.js';
export { runExample } from './example.js';
export type { CliSpawnOptions } from './process.js';
export { CliProcess, PROCESS_READY_TIMEOUT_MS } from './process.js';
