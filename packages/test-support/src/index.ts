export { CommandError, runCommand } from './command.js';
export { ConfigMapMount } from './configmap-mount.js';
export type { EventuallyOptions } from './eventually.js';
export { EVENTUALLY_TIMEOUT_MS, eventually, NotMetError } from './eventually.js';
export { runExample } from './example.js';
export type { ExpectedAuth, ScenarioConfig } from './outgoing-auth-scenario.js';
export {
  DISCOVERED_GITHUB_VALUE,
  expectedScenarioAuth,
  SCENARIO_ENV,
  SCENARIO_GROUP,
  scenarioObjects,
  vmcpConfigYaml,
} from './outgoing-auth-scenario.js';
export type { CliSpawnOptions } from './process.js';
export { CliProcess, PROCESS_READY_TIMEOUT_MS } from './process.js';
