export { installCrds } from './crds.js';
export type { Env, EnvUser, StartEnvOptions } from './env.js';
export { apiServerBinary, etcdBinary, KUBERNETES_SOURCE_VERSION, startEnv } from './env.js';
export type { ApiConnection } from './http.js';
export { apiRequest } from './http.js';
