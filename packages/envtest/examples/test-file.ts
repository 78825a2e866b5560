import { type Env, startEnv } from '@vmcp/envtest';
import { afterAll, beforeAll, beforeEach } from 'vitest';

// #region readme
let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});
beforeEach(({ onTestFailed }) => onTestFailed(() => console.error(env.logs(40))));
// #endregion readme
