import { sharedConfig } from '../../vitest.shared.js';

// The end-to-end tiers start the built sidecar, fake API servers, envtest and MCP servers: every
// wait inside is on a condition (eventually), never a sleep; these are only the ceilings.
export default sharedConfig({ testTimeout: 120_000 });
