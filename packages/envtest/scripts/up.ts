/**
 * `pnpm envtest:up`: starts one API server with the ToolHive CRDs for manual use, prints the
 * kubeconfig paths, and stops everything on Ctrl-C.
 */
import { startEnv } from '../src/index.js';

const env = await startEnv();
console.log(`kube-apiserver ${env.server} (etcd ${env.etcdUrl}) with the ToolHive CRDs installed`);
console.log(`admin kubeconfig:     ${env.kubeconfigPath}`);
console.log(
  `non-admin kubeconfig: ${env.nonAdmin.kubeconfigPath}  (user ${env.nonAdmin.username}, no RBAC yet)`,
);
console.log(`try: kubectl --kubeconfig ${env.kubeconfigPath} get mcpservers`);
console.log('Ctrl-C stops it.');
const stop = async () => {
  await env.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
