/**
 * A JSON-lines logger with pino's call shape (`logger.info({ id }, 'message')`), which is what
 * `@vmcp/registry-client` and `@vmcp/reconciler` take. In a service of your own, pass pino.
 *
 * The gateway logs backend ids, URLs without credentials, states and reasons; it never hands a
 * header value to the logger, and every reason it logs has passed through `scrubSecrets` first.
 */
import type { Logger } from '@vmcp/kube-runtime';

export { silentLogger } from '@vmcp/kube-runtime';
export type { Logger };

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** Writes one JSON object per line: `{"level":"info","time":…,"msg":…,…fields}`. */
export function createJsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
  minimum: Level = 'info',
  bindings: Record<string, unknown> = {},
): Logger {
  const enabled = (level: Level): boolean => LEVELS.indexOf(level) >= LEVELS.indexOf(minimum);
  const logAt =
    (level: Level) =>
    (fieldsOrMessage: Record<string, unknown> | string, message?: string): void => {
      if (!enabled(level)) return;
      const fields = typeof fieldsOrMessage === 'string' ? {} : fieldsOrMessage;
      const msg = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message;
      write(`${JSON.stringify({ level, time: Date.now(), ...bindings, ...fields, msg })}\n`);
    };
  return {
    debug: logAt('debug'),
    info: logAt('info'),
    warn: logAt('warn'),
    error: logAt('error'),
    child: (more) => createJsonLogger(write, minimum, { ...bindings, ...more }),
  };
}
