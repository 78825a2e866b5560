import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

/** A user of the test API server with its own kubeconfig. */
export interface EnvUser {
  username: string;
  token: string;
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
}

/** Who may call an environment's API server: two bearer tokens, and the service-account keys. */
export interface Credentials {
  /** `admin`, in `system:masters`. */
  admin: { username: string; token: string };
  /** `vmcp-watcher`, with no permissions until RBAC grants some. */
  user: { username: string; token: string };
  /** kube-apiserver's flags for authentication (the token file) and authorisation (RBAC). */
  apiServerArgs: string[];
}

/** Makes fresh tokens and service-account keys in `dir`. */
export function writeCredentials(dir: string): Credentials {
  const admin = { username: 'admin', token: randomBytes(24).toString('hex') };
  const user = { username: 'vmcp-watcher', token: randomBytes(24).toString('hex') };
  const tokens = join(dir, 'tokens.csv');
  writeFileSync(
    tokens,
    `${admin.token},${admin.username},${admin.username},"system:masters"\n${user.token},${user.username},${user.username}\n`,
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    admin,
    user,
    apiServerArgs: [
      `--token-auth-file=${tokens}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    ],
  };
}

/** Writes `dir/file`, a kubeconfig for one user of the server, and loads it. */
export function writeUser(
  dir: string,
  file: string,
  cluster: { server: string; ca: string },
  { username, token }: { username: string; token: string },
): EnvUser {
  const path = join(dir, file);
  writeFileSync(path, kubeconfigYaml(cluster.server, cluster.ca, username, token));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return { username, token, kubeConfig, kubeconfigPath: path };
}

function kubeconfigYaml(server: string, ca: string, user: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'envtest',
        cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'envtest', context: { cluster: 'envtest', user, namespace: 'default' } }],
    'current-context': 'envtest',
  });
}
