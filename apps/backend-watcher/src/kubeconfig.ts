import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { importKubeConfig, type Logger } from '@vmcp/kube-runtime';
import { errorCode, firstLine, UsageError } from './config.js';

/**
 * Loads the kubeconfig: the given path (or `KUBECONFIG` list), else the in-cluster service
 * account, else `~/.kube/config`. Every failure is one clear line. client-node's `KubeConfig`
 * comes through `importKubeConfig`, without the package's generated API models (~50 MB of RSS);
 * given a `logger`, one info line says which way it loaded (slim, or full and why).
 */
export async function loadKubeConfig(
  path: string | undefined,
  options: { env?: Readonly<Record<string, string | undefined>>; logger?: Logger } = {},
): Promise<KubeConfig> {
  const { env = process.env, logger } = options;
  const paths = path?.split(delimiter).filter(Boolean) ?? [];
  // What can be refused without client-node is refused first: a usage error writes no log line.
  const source = kubeConfigSource(paths, env);
  const KubeConfig = await importKubeConfig(logger === undefined ? {} : { logger });
  const kubeConfig = new KubeConfig();
  try {
    if (source === 'cluster') kubeConfig.loadFromCluster();
    else {
      const [first, ...rest] = source;
      kubeConfig.loadFromFile(first);
      for (const file of rest) {
        const other = new KubeConfig();
        other.loadFromFile(file);
        kubeConfig.mergeConfig(other, true);
      }
    }
  } catch (error) {
    throw new UsageError(`cannot load kubeconfig ${paths.join(delimiter)}: ${firstLine(error)}`);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new UsageError(
      `kubeconfig ${paths.join(delimiter) || '(default)'} has no current context with a cluster`,
    );
  }
  return kubeConfig;
}

/**
 * Where the kubeconfig comes from: the given files (a `KUBECONFIG` list: the first, then each
 * other merged in, as kubectl does), else the in-cluster service account, else
 * `~/.kube/config`. A file that cannot be read is a {@link UsageError}.
 */
function kubeConfigSource(
  paths: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): 'cluster' | [string, ...string[]] {
  if (paths.length > 0) {
    for (const file of paths) {
      try {
        accessSync(file, constants.R_OK);
      } catch (error) {
        throw new UsageError(`cannot read kubeconfig ${file}: ${errorCode(error)}`);
      }
    }
    return paths as [string, ...string[]];
  }
  if (env.KUBERNETES_SERVICE_HOST) return 'cluster';
  const file = join(env.HOME ?? homedir(), '.kube', 'config');
  if (!existsSync(file)) {
    throw new UsageError(
      'no kubeconfig: pass --kubeconfig or set KUBECONFIG, or run inside a cluster',
    );
  }
  return [file];
}

/** The namespace of the kubeconfig's current context, if it names one. */
export function contextNamespace(kubeConfig: KubeConfig): string | undefined {
  return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace || undefined;
}
