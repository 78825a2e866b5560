import { sharedConfig, TIMEOUTS } from '../../vitest.shared.js';

// Its tests start the built sidecar and a real kube-apiserver (envtest).
export default sharedConfig({ testTimeout: TIMEOUTS.realServerTestMs });
