import { sharedConfig } from '../../vitest.shared.js';

export default sharedConfig({ testTimeout: 240_000 });
