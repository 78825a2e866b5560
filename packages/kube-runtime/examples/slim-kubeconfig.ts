// #region readme
import { importKubeConfig } from '@vmcp/kube-runtime';

const KubeConfig = await importKubeConfig();
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
// #endregion readme
