import { sharedConfig } from '../../vitest.shared.js';

// The sidecar tiers start the built binary and fake API servers: generous ceilings for a busy
// machine (every wait inside is on a readiness signal, never a sleep).
export default sharedConfig({ testTimeout: 60_000 });
