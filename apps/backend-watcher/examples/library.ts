import type { KubeConfig } from '@kubernetes/client-node';

// Stand-ins for the reader's own program.
declare const kubeConfig: KubeConfig;

// #region readme
import { startSidecar } from '@vmcp/backend-watcher';

const sidecar = await startSidecar({
  kubeConfig,
  namespace: 'tools',
  groupRef: 'engineering',
  listen: '127.0.0.1:0',
});
console.log(sidecar.url, sidecar.registry.list());
await sidecar.close();
// #endregion readme
