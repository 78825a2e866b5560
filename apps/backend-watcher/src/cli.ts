#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
import { startSidecar } from './sidecar.js';

/** Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 `explain`: not a backend. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notABackend: 3 } as const;

async function resolveRun(config: RunConfig, logger: Logger) {
  const kubeConfig = await loadKubeConfig(config.kubeconfig, { logger });
  const namespace = config.namespace ?? fallbackNamespace(contextNamespace(kubeConfig));
  const apiToken = config.apiTokenFile ? readTokenFile(config.apiTokenFile) : undefined;
  return { kubeConfig, namespace, apiToken };
}

async function run(config: RunConfig): Promise<number> {
  const logger = createLogger(config.logLevel);
  const { kubeConfig, namespace, apiToken } = await resolveRun(config, logger);
  const sidecar = await startSidecar({
    kubeConfig,
    namespace,
    groupRef: config.group,
    listen: `${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${config.listen.port}`,
    logger,
    gracePeriodMs: config.gracePeriodMs,
    heartbeatMs: config.heartbeatMs,
    ...(apiToken !== undefined ? { apiToken } : {}),
    resyncPeriodMs: config.resyncPeriodMs,
    readTimeoutMs: config.readTimeoutMs,
    workers: config.workers,
  });
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

async function runExplain(config: RunConfig, name: string): Promise<number> {
  const explanation =
    config.sidecarUrl !== undefined
      ? await explainFromSidecar({
          url: config.sidecarUrl,
          name,
          apiToken: config.apiTokenFile ? readTokenFile(config.apiTokenFile) : undefined,
        })
      : await explainFromCluster(config, name);
  process.stdout.write(formatExplanation(explanation));
  return isBackend(explanation) ? EXIT.ok : EXIT.notABackend;
}

async function explainFromCluster(config: RunConfig, name: string) {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const { kubeConfig, namespace } = await resolveRun(config, logger);
  return explain({
    kubeConfig,
    namespace,
    groupRef: config.group,
    name,
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
        return await runExplain(command.config, command.name);
      case 'demo': {
        const { runDemo } = await import('./demo.js');
        return await runDemo(command.config);
      }
      case 'run':
        return await run(command.config);
    }
  } catch (error) {
    const usage = error instanceof UsageError;
    process.stderr.write(`${NAME}: ${firstLine(error)}${usage ? ` (see ${NAME} --help)` : ''}\n`);
    return usage ? EXIT.usage : EXIT.failure;
  }
}

/** True when this module is the program (not imported by a test or another module). */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${NAME}: unexpected error: ${firstLine(error)}\n`);
    process.exit(EXIT.failure);
  });
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
