import { sharedConfig } from '../../vitest.shared.js';

export default sharedConfig({ testTimeout: 90_000 });
