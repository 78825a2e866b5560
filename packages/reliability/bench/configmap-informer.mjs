// The anchor of the ConfigMap benchmark: what a watcher that caches ConfigMaps with their data
// holds (upstream's cache, and this project's before its metadata-only watch): one full
// ConfigMap informer of @vmcp/kube-runtime over the namespace. argv: <kubeconfig> <namespace>.
// Prints "synced" once its cache is full.
import { createInformer, importKubeConfig } from '@vmcp/kube-runtime';

const [kubeconfigPath, namespace] = process.argv.slice(2);
const KubeConfig = await importKubeConfig();
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath);
const informer = createInformer({
  kubeConfig,
  namespace,
  resource: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
});
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
const running = informer.run(stop.signal);
if (await informer.waitForSync(stop.signal)) console.log(`synced ${informer.store.size}`);
await running;
