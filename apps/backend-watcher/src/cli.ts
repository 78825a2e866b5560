#!/usr/bin/env node
import { createRequire } from 'node:module';
import pino from 'pino';
import {
  type Command,
  fallbackNamespace,
  firstLine,
  type LogLevel,
  parseCommand,
  type RunConfig,
  readTokenFile,
  USAGE,
  UsageError,
} from './config.js';
import { explain, formatExplanation, isBackend } from './explain.js';
import { contextNamespace, loadKubeConfig } from './kubeconfig.js';
import { startSidecar } from './sidecar.js';

const NAME = 'vmcp-backend-watcher';

/** Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 `explain`: not a backend. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notABackend: 3 } as const;

/** Paths of fields that hold secret values, censored by the logger whatever logs them. */
export const SECRET_LOG_PATHS = [
  '*.headerValue',
  '*.clientSecret',
  '*.idpClientSecret',
  '*.targetClientSecret',
  '*.authConfig.headerValue',
  '*.authConfig.clientSecret',
  '*.authConfig.idpClientSecret',
  '*.authConfig.targetClientSecret',
  '*.data',
  '*.stringData',
  'authorization',
  '*.authorization',
];

export function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

export function createLogger(level: LogLevel) {
  return pino({
    name: NAME,
    level,
    base: { name: NAME },
    redact: { paths: SECRET_LOG_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

function resolveRun(config: RunConfig) {
  const kubeConfig = loadKubeConfig(config.kubeconfig);
  const namespace = config.namespace ?? fallbackNamespace(contextNamespace(kubeConfig));
  const apiToken = config.apiTokenFile ? readTokenFile(config.apiTokenFile) : undefined;
  return { kubeConfig, namespace, apiToken };
}

async function run(config: RunConfig): Promise<number> {
  const { kubeConfig, namespace, apiToken } = resolveRun(config);
  const logger = createLogger(config.logLevel);
  const sidecar = await startSidecar({
    kubeConfig,
    namespace,
    groupRef: config.group,
    listen: `${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${config.listen.port}`,
    logger,
    gracePeriodMs: config.gracePeriodMs,
    ...(apiToken !== undefined ? { apiToken } : {}),
    ...(config.resyncPeriodMs !== undefined ? { resyncPeriodMs: config.resyncPeriodMs } : {}),
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
      setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        resolve(EXIT.failure);
      }, config.gracePeriodMs + 5_000).unref();
      sidecar.close().then(
        () => resolve(EXIT.ok),
        () => resolve(EXIT.failure),
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    sidecar.done.then(
      () => {
        if (!stopping) resolve(EXIT.failure);
      },
      () => resolve(EXIT.failure),
    );
  });
}

async function runExplain(config: RunConfig, name: string): Promise<number> {
  const { kubeConfig, namespace } = resolveRun(config);
  const explanation = await explain({
    kubeConfig,
    namespace,
    groupRef: config.group,
    name,
    logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
  });
  process.stdout.write(formatExplanation(explanation));
  return isBackend(explanation) ? EXIT.ok : EXIT.notABackend;
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

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith('/cli.js');
if (invokedDirectly) {
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${NAME}: unexpected error: ${firstLine(error)}\n`);
    process.exit(EXIT.failure);
  });
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
