import type { Logger } from '@vmcp/kube-runtime';

// Stand-ins for the reader's own program.
declare const logger: Logger;

// #region readme
import { importKubeConfig } from '@vmcp/kube-runtime';

const KubeConfig = await importKubeConfig({ logger }); // one info line: slim or full, and why
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
// #endregion readme
