// The consumer's own client-node (the one copy, a peer of the packages): its KubeConfig is what
// every package takes, and what importKubeConfig hands back.
import { KubeConfig } from '@kubernetes/client-node';
import { startSidecar } from '@vmcp/backend-watcher';
import type { Env } from '@vmcp/envtest';
import type { FakeApiServer } from '@vmcp/fake-apiserver';
import { createInformer, importKubeConfig, KubeClient, Manager } from '@vmcp/kube-runtime';
import { BackendWatcher } from '@vmcp/reconciler';
import { createDynamicRegistry } from '@vmcp/registry';

const kubeConfig = new KubeConfig();
export const client = new KubeClient(kubeConfig);
export const informer = createInformer({
  kubeConfig,
  resource: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
});
export const manager = new Manager({ logger: console });
export const watcher = new BackendWatcher({
  kubeConfig,
  namespace: 'tools',
  groupRef: 'engineering',
  registry: createDynamicRegistry(),
});
export const sidecar = () => startSidecar({ kubeConfig, namespace: 'tools', groupRef: 'x' });
export const loaded: KubeConfig = new (await importKubeConfig({ logger: console }))();
export const fromFake = (server: FakeApiServer): KubeConfig => server.kubeConfig;
export const fromEnv = (env: Env): KubeConfig => env.kubeConfig;
