// #region readme
import { importKubeConfig, startSidecar } from '@vmcp/backend-watcher';

const KubeConfig = await importKubeConfig(); // client-node's, without its generated API models
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault(); // $KUBECONFIG, else ~/.kube/config, else the pod's service account

const sidecar = await startSidecar({
  kubeConfig,
  namespace: 'tools',
  groupRef: 'engineering',
  listen: '127.0.0.1:0',
}); // serving (/readyz says 503 until the registry synced)
await sidecar.watcher.waitForRegistrySync(); // every backend of the group is in
console.log(
  sidecar.url,
  sidecar.registry.list().map((backend) => backend.id),
); // http://127.0.0.1:PORT [ 'fetch', 'github' ]
await sidecar.close();
// #endregion readme
