export type { EventuallyOptions } from './eventually.js';
export { EVENTUALLY_TIMEOUT_MS, eventually, NotMetError } from './eventually.js';
