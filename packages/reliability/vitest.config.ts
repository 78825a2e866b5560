import { sharedConfig } from '../../vitest.shared.js';

// A chaos run is 60 s of mutations in 4 rounds (VMCP_CHAOS_SECONDS), then per round a wait for
// convergence (ceiling 60 s) after a fault that may still be running, such as an API server
// restart (measured up to 21 s): about 390 s before the run itself reports a divergence. The
// timeout sits above that, so that the chaos report, not vitest, explains a failure.
export default sharedConfig({ testTimeout: 600_000 });
