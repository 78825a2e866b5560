import { downgradeCrd, toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { readYamlObjects } from '../src/fake.js';
import { startFakeApiServer } from '../src/index.js';
import { behaviourSuite } from './behaviour.js';

behaviourSuite('fake (HTTPS)', async () => {
  const fake = await startFakeApiServer({ https: true });
  // The same (downgraded) CRDs envtest installs, so that both servers validate alike.
  fake.load(toolhiveCrdPaths.flatMap((path) => readYamlObjects(path).map(downgradeCrd)));
  return {
    kubeConfig: fake.kubeConfig,
    kubeconfigPath: fake.kubeconfigPath,
    stop: () => fake.close(),
  };
});
