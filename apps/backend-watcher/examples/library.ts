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
const ids = sidecar.registry.list().map((backend) => backend.id);
console.log(sidecar.url, ids); // http://127.0.0.1:PORT [ 'bedrock', 'docs', … ] with examples/
await sidecar.close();
// #endregion readme
