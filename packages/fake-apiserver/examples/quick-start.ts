// #region readme
import { startFakeApiServer } from '@vmcp/fake-apiserver';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';

await using server = await startFakeApiServer({ crds: toolhiveCrdPaths });
server.url; // https://127.0.0.1:PORT (self-signed; the kubeconfig carries the CA)
server.kubeConfig; // @kubernetes/client-node KubeConfig for its token
server.kubeconfigPath; // for kubectl and child processes
server.faults.dropWatches();
// #endregion readme
