// #region readme
import { startEnv } from '@vmcp/envtest';

const env = await startEnv(); // etcd + kube-apiserver, CRDs Established
try {
  console.log(env.kubeconfigPath); // admin (system:masters); env.nonAdmin for RBAC tests
  env.pause(); // SIGSTOP: a silent, stalled server
  env.resume(); // SIGCONT
  await env.restart(); // every connection drops; same etcd and port
  await env.compact(); // older resourceVersions now get 410 Gone
} finally {
  await env.stop(); // no process survives
}
// #endregion readme
