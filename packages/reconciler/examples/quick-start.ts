import type { KubeConfig } from '@kubernetes/client-node';

// Stand-ins for the reader's own program.
declare const kubeConfig: KubeConfig;
declare const signal: AbortSignal;

// #region readme
import { BackendWatcher } from '@vmcp/reconciler';
import { createDynamicRegistry } from '@vmcp/registry';

const registry = createDynamicRegistry();
const watcher = new BackendWatcher({
  kubeConfig,
  namespace: 'tools',
  groupRef: 'engineering',
  registry,
});
const done = watcher.start(signal); // runs until the signal aborts
const ready = await watcher.waitForRegistrySync(); // the readiness gate (false on timeout)
console.log(ready ? `${registry.count()} backends` : 'not synced yet');
console.log(watcher.pendingInitialNames()); // initial names whose reads still fail, if any
await done;
// #endregion readme
