// #region readme
import { BackendWatcher, importKubeConfig } from '@vmcp/reconciler';
import { createDynamicRegistry } from '@vmcp/registry';

const KubeConfig = await importKubeConfig(); // client-node's, without its generated API models
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault(); // $KUBECONFIG, else ~/.kube/config, else the pod's service account

const registry = createDynamicRegistry();
const watcher = new BackendWatcher({
  kubeConfig,
  namespace: 'tools',
  groupRef: 'engineering',
  registry,
});
const stop = new AbortController(); // runs until Ctrl-C or SIGTERM
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stop.abort());
const done = watcher.start(stop.signal);
// The readiness gate: the caches synced and every name they listed decided once (see Readiness
// below; waitForCacheSync() alone can still see an empty registry).
const ready = await watcher.waitForRegistrySync();
console.log(ready ? `${registry.count()} backends` : 'not synced yet'); // 2 backends
console.log(watcher.pendingInitialNames()); // initial names whose reads still fail: []
await done;
// #endregion readme
