/**
 * Where the gateway's backends come from. Both sources give the same `RegistryReader` of
 * `@vmcp/registry`, so everything after this file is the same code for either:
 * - `sidecar` (`--registry URL`): `connectRegistry` of `@vmcp/registry-client` follows a
 *   `vmcp-backend-watcher` sidecar in another container of the pod;
 * - `kubernetes` (`--kubeconfig PATH`): a `BackendWatcher` of `@vmcp/reconciler` runs in this
 *   process and fills a dynamic registry.
 */
import { childLogger, importKubeConfig } from '@vmcp/kube-runtime';
import { BackendWatcher } from '@vmcp/reconciler';
import { createDynamicRegistry, type RegistryReader } from '@vmcp/registry';
import { connectRegistry } from '@vmcp/registry-client';
import { quote, type RegistrySourceConfig, readSecretFile, UsageError } from './flags.js';
import type { Logger } from './log.js';

/** A registry to follow, and its readiness. */
export interface RegistrySource {
  /** `sidecar`, `kubernetes`, or `in-process` (a registry handed over by a program). */
  readonly kind: string;
  readonly registry: RegistryReader;
  /**
   * Resolves true once the registry holds its first complete content, false if `signal` aborts
   * first; rejects when the source failed for good (a sidecar refusing the token).
   */
  waitForSync(signal: AbortSignal): Promise<boolean>;
  /** Whether it is synced, and its failure if it failed; for `/status`. */
  health(): { synced: boolean; error?: string };
  close(): Promise<void>;
}

/** Opens the source the command line names. Mistakes in what it names are {@link UsageError}s. */
export async function openRegistrySource(
  config: RegistrySourceConfig,
  logger: Logger,
): Promise<RegistrySource> {
  return config.kind === 'sidecar'
    ? followSidecar(config.url, config.tokenFile, logger)
    : watchCluster(config, logger);
}

/** A registry the program already has (a dynamic registry it fills, a client it opened). */
export function inProcessSource(registry: RegistryReader): RegistrySource {
  return {
    kind: 'in-process',
    registry,
    waitForSync: async () => true,
    health: () => ({ synced: true }),
    close: async () => {},
  };
}

function followSidecar(url: string, tokenFile: string | undefined, logger: Logger): RegistrySource {
  const token = tokenFile === undefined ? undefined : readSecretFile(tokenFile, '--token-file');
  const client = connectRegistry({
    url,
    ...(token === undefined ? {} : { token }),
    logger: childLogger(logger, { component: 'registry-client' }),
  });
  return {
    kind: 'sidecar',
    registry: client,
    async waitForSync(signal) {
      try {
        return await client.waitForSync({ signal });
      } catch (error) {
        if (signal.aborted) return false;
        throw error;
      }
    },
    health() {
      const { synced, error } = client.status();
      return error === undefined ? { synced } : { synced, error: error.message };
    },
    close: () => client.close(),
  };
}

async function watchCluster(
  config: Extract<RegistrySourceConfig, { kind: 'kubernetes' }>,
  logger: Logger,
): Promise<RegistrySource> {
  const KubeConfig = await importKubeConfig();
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(config.kubeconfig);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = typeof code === 'string' ? code : 'not a kubeconfig';
    throw new UsageError(`cannot load --kubeconfig ${quote(config.kubeconfig)}: ${why}`);
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new UsageError(
      `--kubeconfig ${quote(config.kubeconfig)} has no current context with a cluster`,
    );
  }
  const registry = createDynamicRegistry();
  const watcher = new BackendWatcher({
    kubeConfig,
    namespace: config.namespace,
    groupRef: config.group,
    registry,
    logger: childLogger(logger, { component: 'backend-watcher' }),
  });
  const stop = new AbortController();
  let failure: string | undefined;
  let ended = false;
  const done = watcher
    .start(stop.signal)
    .catch((error: unknown) => {
      failure = error instanceof Error ? error.message : String(error);
      logger.error({ error: failure }, 'the backend watcher stopped');
    })
    .finally(() => {
      ended = true;
    });
  return {
    kind: 'kubernetes',
    registry,
    async waitForSync(signal) {
      while (!signal.aborted && !ended) {
        if (await watcher.waitForRegistrySync({ signal, timeoutMs: 30_000 })) return true;
      }
      if (ended && !signal.aborted) {
        throw new Error(`the backend watcher stopped: ${failure ?? 'it ended'}`);
      }
      return false;
    },
    health: () => ({
      synced: watcher.hasSynced(),
      ...(failure === undefined ? {} : { error: failure }),
    }),
    async close() {
      stop.abort();
      await done;
    },
  };
}
