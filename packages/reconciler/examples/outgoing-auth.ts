import type { KubeConfig } from '@kubernetes/client-node';
import type { DynamicRegistry } from '@vmcp/registry';

// Stand-ins for the reader's own program: its vMCP config file, read at start and again later.
declare const kubeConfig: KubeConfig;
declare const registry: DynamicRegistry;
declare const vmcpConfig: { outgoingAuth?: unknown };
declare const reloaded: { outgoingAuth?: unknown };

// #region readme
import { BackendWatcher, parseOutgoingAuth } from '@vmcp/reconciler';

const outgoingAuth = parseOutgoingAuth(vmcpConfig.outgoingAuth); // `...Env` read from process.env
const watcher = new BackendWatcher({
  kubeConfig,
  namespace: 'tools',
  groupRef: 'engineering',
  registry,
  outgoingAuth,
});
// Later, with the file read again: every backend is resolved again with it.
watcher.setOutgoingAuth(parseOutgoingAuth(reloaded.outgoingAuth));
// #endregion readme
