import { startEnv } from '@vmcp/envtest';
import { behaviourSuite } from './behaviour.js';

behaviourSuite('envtest (kube-apiserver 1.20)', async () => {
  const env = await startEnv();
  return {
    kubeConfig: env.kubeConfig,
    kubeconfigPath: env.kubeconfigPath,
    stop: () => env.stop(),
  };
});
