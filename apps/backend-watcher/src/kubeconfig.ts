import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { importKubeConfig } from '@vmcp/kube-runtime';
import { errorCode, firstLine, UsageError } from './config.js';

/**
 * Loads the kubeconfig: the given path (or `KUBECONFIG` list), else the in-cluster service
 * account, else `~/.kube/config`. Every failure is one clear line. client-node's `KubeConfig`
 * comes through `importKubeConfig`, without the package's generated API models (~50 MB of RSS).
 */
export async function loadKubeConfig(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<KubeConfig> {
  const KubeConfig = await importKubeConfig();
  const kubeConfig = new KubeConfig();
  const paths = path?.split(delimiter).filter(Boolean) ?? [];
  try {
    if (paths.length > 0) loadFiles(kubeConfig, paths, () => new KubeConfig());
    else if (env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
    else {
      const file = join(env.HOME ?? homedir(), '.kube', 'config');
      if (!existsSync(file)) {
        throw new UsageError(
          'no kubeconfig: pass --kubeconfig or set KUBECONFIG, or run inside a cluster',
        );
      }
      kubeConfig.loadFromFile(file);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot load kubeconfig ${paths.join(delimiter)}: ${firstLine(error)}`);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new UsageError(
      `kubeconfig ${paths.join(delimiter) || '(default)'} has no current context with a cluster`,
    );
  }
  return kubeConfig;
}

/** Loads a `KUBECONFIG` list: the first file, then each other merged in, as kubectl does. */
function loadFiles(kubeConfig: KubeConfig, paths: readonly string[], create: () => KubeConfig) {
  for (const file of paths) {
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      throw new UsageError(`cannot read kubeconfig ${file}: ${errorCode(error)}`);
    }
  }
  const [first, ...rest] = paths as [string, ...string[]];
  kubeConfig.loadFromFile(first);
  for (const file of rest) {
    const other = create();
    other.loadFromFile(file);
    kubeConfig.mergeConfig(other, true);
  }
}

/** The namespace of the kubeconfig's current context, if it names one. */
export function contextNamespace(kubeConfig: KubeConfig): string | undefined {
  return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace || undefined;
}
