import type { Logger } from '@vmcp/kube-runtime';

/** A logger that records every line, as an entry and as one `level message {fields}` string. */
export interface RecordingLogger {
  logger: Logger;
  /** `{ level, msg, ...fields }` of every line (debug included). */
  entries: Record<string, unknown>[];
  /** `level message {"field":...}` of every line: for text searches (a planted secret). */
  lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const entries: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const at =
    (level: string) =>
    (fields: unknown, message?: unknown): void => {
      entries.push({ level, msg: message, ...(fields as object) });
      lines.push(`${level} ${String(message ?? '')} ${JSON.stringify(fields)}`);
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return { logger, entries, lines };
}
