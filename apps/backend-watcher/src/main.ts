/**
 * The commands of `vmcp-backend-watcher` (`run`, `explain`, `demo`, `help`, `version`), loaded by
 * cli.ts once its import hook is in place.
 */
import { type Logger, systemClock } from '@vmcp/kube-runtime';
import {
  type Command,
  fallbackNamespace,
  firstLine,
  parseCommand,
  type RunConfig,
  readTokenFile,
  USAGE,
  UsageError,
} from './config.js';
import { explain, explainFromSidecar, formatExplanation, isBackend } from './explain.js';
import { contextNamespace, loadKubeConfig } from './kubeconfig.js';
import { createLogger, NAME, version } from './logger.js';
import { type Sidecar, startSidecar } from './sidecar.js';
import { loadVmcpConfig, type VmcpConfig, VmcpConfigError } from './vmcp-config.js';

// The start phases of `run`, in ms since the process started (`performance.now()`): the
// program's imports (cli.ts loads this module, and this module's static imports) are done now.
const importedAt = performance.now();

export { firstLine } from './config.js';
export { NAME } from './logger.js';

/** Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 `explain`: not a backend. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notABackend: 3 } as const;

type Env = Readonly<Record<string, string | undefined>>;

async function resolveRun(config: RunConfig, env: Env, logger: Logger) {
  const vmcpConfig =
    config.configFile === undefined ? undefined : readConfig(config.configFile, env);
  const group = config.group ?? vmcpConfig?.groupRef;
  if (group === undefined) {
    throw new UsageError(
      `--group (or VMCP_GROUP) is required: ${config.configFile} has no groupRef`,
    );
  }
  const kubeConfig = await loadKubeConfig(config.kubeconfig, { logger });
  const namespace = config.namespace ?? fallbackNamespace(contextNamespace(kubeConfig));
  const apiToken = config.apiTokenFile ? readTokenFile(config.apiTokenFile) : undefined;
  return { kubeConfig, namespace, apiToken, group, vmcpConfig };
}

/** The `--config` file, read and checked now: a bad one is a usage error (exit code 2). */
function readConfig(path: string, env: Env): VmcpConfig {
  try {
    return loadVmcpConfig(path, env);
  } catch (error) {
    if (error instanceof VmcpConfigError) throw new UsageError(`--config ${error.message}`);
    throw error;
  }
}

async function run(config: RunConfig, env: Env): Promise<number> {
  const logger = createLogger(config.logLevel);
  const { kubeConfig, namespace, apiToken, group, vmcpConfig } = await resolveRun(
    config,
    env,
    logger,
  );
  const kubeconfigAt = performance.now();
  if (vmcpConfig?.groupRef !== undefined && config.group !== undefined) {
    if (vmcpConfig.groupRef !== config.group.split('/').pop()) {
      logger.warn(
        { group: config.group, groupRef: vmcpConfig.groupRef, config: vmcpConfig.path },
        '--group differs from the groupRef of the vMCP config; --group wins',
      );
    }
  }
  const sidecar = await startSidecar({
    kubeConfig,
    namespace,
    groupRef: group,
    ...(vmcpConfig !== undefined ? { vmcpConfig } : {}),
    listen: `${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${config.listen.port}`,
    logger,
    gracePeriodMs: config.gracePeriodMs,
    heartbeatMs: config.heartbeatMs,
    maxStreams: config.maxStreams,
    ...(apiToken !== undefined ? { apiToken } : {}),
    resyncPeriodMs: config.resyncPeriodMs,
    readTimeoutMs: config.readTimeoutMs,
    workers: config.workers,
    secretRefreshPeriodMs: config.secretRefreshPeriodMs,
    initialSyncTimeoutMs: config.initialSyncTimeoutMs,
  });
  logStart(sidecar, logger, {
    bootstrap: performance.nodeTiming.bootstrapComplete,
    imports: importedAt,
    kubeconfig: kubeconfigAt,
    listening: performance.now(),
  }).catch((error: unknown) => logger.warn({ err: firstLine(error) }, 'start phases not logged'));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(EXIT.failure);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'signal received');
      // A hard limit in case something does not stop within the grace period.
      systemClock.setTimer(config.gracePeriodMs + 5_000, () => {
        logger.error('shutdown took too long; exiting');
        resolve(EXIT.failure);
      });
      sidecar.close().then(
        () => resolve(EXIT.ok),
        () => resolve(EXIT.failure),
      );
    };
    // `on`, not `once`: a second signal during the grace period must reach `stop` too.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    sidecar.done.then(
      () => {
        if (!stopping) resolve(EXIT.failure);
      },
      () => resolve(EXIT.failure),
    );
  });
}

/**
 * Logs `registry synced` once the registry reflects the caches, with the backend count and when
 * each phase of the start ended, in ms since the process started: Node's bootstrap, the imports,
 * the kubeconfig, the HTTP server listening, the caches synced, the registry synced.
 */
async function logStart(
  sidecar: Sidecar,
  logger: ReturnType<typeof createLogger>,
  marks: Record<string, number>,
): Promise<void> {
  const stopped = new AbortController();
  sidecar.done.finally(() => stopped.abort()).catch(() => undefined);
  // The longest wait the watcher takes (24 h): a start that takes longer logs nothing more.
  const forever = { signal: stopped.signal, timeoutMs: 86_400_000 };
  if (!(await sidecar.watcher.waitForCacheSync(forever))) return;
  const cachesSynced = performance.now();
  if (!(await sidecar.watcher.waitForRegistrySync(forever))) return;
  const phases = { ...marks, cachesSynced, registrySynced: performance.now() };
  const startMs = Object.fromEntries(
    Object.entries(phases).map(([phase, ms]) => [phase, Math.round(ms)]),
  );
  logger.info({ backends: sidecar.registry.count(), startMs }, 'registry synced');
}

async function runExplain(config: RunConfig, name: string, env: Env): Promise<number> {
  const explanation =
    config.sidecarUrl !== undefined
      ? await explainFromSidecar({
          url: config.sidecarUrl,
          name,
          apiToken: config.apiTokenFile ? readTokenFile(config.apiTokenFile) : undefined,
        })
      : await explainFromCluster(config, name, env);
  process.stdout.write(formatExplanation(explanation));
  return isBackend(explanation) ? EXIT.ok : EXIT.notABackend;
}

async function explainFromCluster(config: RunConfig, name: string, env: Env) {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const { kubeConfig, namespace, group, vmcpConfig } = await resolveRun(config, env, logger);
  return explain({
    kubeConfig,
    namespace,
    groupRef: group,
    name,
    ...(vmcpConfig?.outgoingAuth !== undefined ? { outgoingAuth: vmcpConfig.outgoingAuth } : {}),
    readTimeoutMs: config.readTimeoutMs,
    logger,
  });
}

/** Runs the command line; resolves with the exit code. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv, env);
    switch (command.command) {
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return EXIT.ok;
      case 'version':
        process.stdout.write(`${NAME} ${version()}\n`);
        return EXIT.ok;
      case 'explain':
        return await runExplain(command.config, command.name, env);
      case 'demo': {
        const { runDemo } = await import('./demo.js');
        return await runDemo(command.config);
      }
      case 'run':
        return await run(command.config, env);
    }
  } catch (error) {
    const usage = error instanceof UsageError;
    process.stderr.write(`${NAME}: ${firstLine(error)}${usage ? ` (see ${NAME} --help)` : ''}\n`);
    return usage ? EXIT.usage : EXIT.failure;
  }
}
