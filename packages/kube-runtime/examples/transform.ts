import type { KubeConfig } from '@kubernetes/client-node';

// Stand-ins for the reader's own program.
declare const kubeConfig: KubeConfig;

// #region readme
import { createInformer, dropApplyMetadata, keepIdentity } from '@vmcp/kube-runtime';

// MCPServers without apply bookkeeping; ConfigMaps as names and versions only.
const servers = createInformer({
  kubeConfig,
  namespace: 'tools',
  resource: {
    group: 'toolhive.stacklok.dev',
    version: 'v1beta1',
    plural: 'mcpservers',
    kind: 'MCPServer',
  },
  transform: dropApplyMetadata,
});
const configMaps = createInformer({
  kubeConfig,
  namespace: 'tools',
  resource: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
  metadataOnly: true,
  transform: keepIdentity,
});

// #endregion readme

export { configMaps, servers };
