// #region readme
import { startFakeApiServer } from '@vmcp/fake-apiserver';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';

await using server = await startFakeApiServer({ crds: toolhiveCrdPaths }); // closed at the end
console.log(server.url); // https://127.0.0.1:PORT (self-signed; the kubeconfig carries the CA)
console.log(server.kubeconfigPath); // /tmp/vmcp-fake-apiserver-XXXX/kubeconfig, for kubectl
const kubeConfig = server.kubeConfig; // a KubeConfig of your @kubernetes/client-node, its token
console.log(kubeConfig.getCurrentCluster()?.server === server.url); // true
server.faults.dropWatches(); // every watch ends now, as when an API server restarts
// #endregion readme
