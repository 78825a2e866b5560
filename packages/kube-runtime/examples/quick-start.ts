// #region readme
import { createInformer, importKubeConfig, Manager } from '@vmcp/kube-runtime';

const logger = console; // or pino(): anything with debug, info, warn and error
const KubeConfig = await importKubeConfig({ logger }); // client-node's (see below)
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault(); // $KUBECONFIG, else ~/.kube/config, else the pod's service account

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
    reconcile: async ({ namespace, name }) => {
      console.log(`reconcile ${namespace}/${name}`); // reconcile tools/fetch
    },
  })
  .watches(servers, (server) => [
    { namespace: server.metadata.namespace!, name: server.metadata.name! },
  ]);

const stop = new AbortController(); // runs until Ctrl-C or SIGTERM
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stop.abort());
const done = manager.start(stop.signal);
const synced = await manager.waitForCacheSync({ timeoutMs: 30_000 }); // false on timeout or abort
console.log(synced ? 'synced' : 'not synced'); // synced
await done; // settles once the signal aborted and everything stopped
// #endregion readme
