export type { FakeApiServer, FakeApiServerOptions } from './fake.js';
export { readYamlObjects, startFakeApiServer } from './fake.js';
export type { FaultControls } from './faults.js';
export type { ResourceType } from './store.js';
export type { KubeObject } from './types.js';
