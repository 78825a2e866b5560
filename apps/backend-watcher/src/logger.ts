import { createRequire } from 'node:module';
import pino from 'pino';
import type { LogLevel } from './config.js';
import { isoTime } from './time.js';

export const NAME = 'vmcp-backend-watcher';

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

/** Structured JSON logs on stdout, with secret-bearing fields censored whatever logs them. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream) {
  return pino(
    {
      name: NAME,
      level,
      base: { name: NAME },
      redact: { paths: SECRET_LOG_PATHS, censor: '[REDACTED]' },
      // pino's isoTime, without a Date (see time.ts).
      timestamp: () => `,"time":"${isoTime(Date.now())}"`,
    },
    destination,
  );
}
