export { apiServerBinary, KUBERNETES_SOURCE_VERSION } from './apiserver.js';
export type { EnvUser } from './auth.js';
export { installCrds } from './crds.js';
export type { Env, StartEnvOptions } from './env.js';
export { startEnv } from './env.js';
export { etcdBinary } from './etcd.js';
export type { ApiConnection } from './http.js';
export { apiRequest } from './http.js';
