import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@vmcp/kube-runtime';

// Stand-ins for the reader's own program.
declare const kubeConfig: KubeConfig;
declare const logger: Logger;
declare const signal: AbortSignal;

// #region readme
import { createInformer, Manager } from '@vmcp/kube-runtime';

const servers = createInformer({
  kubeConfig,
  namespace: 'tools',
  resource: {
    group: 'toolhive.stacklok.dev',
    version: 'v1beta1',
    plural: 'mcpservers',
    kind: 'MCPServer',
  },
});
const manager = new Manager({ logger });
manager.addInformer(servers);
manager
  .createController({
    name: 'backends',
    reconcile: async ({ namespace, name }, { signal }) => {
      logger.info({ namespace, name, aborted: signal.aborted }, 'reconcile');
    },
  })
  .watches(servers, (server) => [
    { namespace: server.metadata.namespace!, name: server.metadata.name! },
  ]);
const done = manager.start(signal);
await manager.waitForCacheSync({ timeoutMs: 30_000 }); // false on timeout, abort, or before start
await done; // settles once the signal aborted and everything stopped
// #endregion readme
