import { sharedConfig, TIMEOUTS } from '../../vitest.shared.js';

// Its tests start a real kube-apiserver (envtest) and may restart it.
export default sharedConfig({ testTimeout: TIMEOUTS.realServerTestMs });
