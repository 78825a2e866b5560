export { downgradeCrd } from './downgrade.js';
export { toolhiveCrdDirectory, toolhiveCrdPaths } from './paths.js';
