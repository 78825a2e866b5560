import type { Logger } from '@vmcp/kube-runtime';
import type { Counter } from 'prom-client';

/**
 * Where an unexpected error of the HTTP server came from:
 * - `route`: a route threw or rejected with something other than an `HttpError` (a bug; that
 *   request gets a 500);
 * - `response`: an `error` event of a response or its socket that nothing else handled;
 * - `stream`: a timer of an event stream (heartbeat, slow-client check);
 * - `malformed`: answering a request Node's parser refused;
 * - `server`: the listening socket (an `accept` that failed, such as EMFILE).
 */
export type ErrorSource = 'route' | 'response' | 'stream' | 'malformed' | 'server';

/**
 * The HTTP server's last line of defence: an error nothing else handled is logged and counted
 * (`vmcp_http_request_errors_total{source}`), and costs at most the one request or connection it
 * happened on, never the process. It lives in the server's own code paths (its listeners, its
 * timers), not in a process-wide handler, so that a program embedding the server keeps its own.
 */
export class LastResort {
  readonly #errors: Counter<'source'>;
  readonly #logger: Logger;

  constructor(errors: Counter<'source'>, logger: Logger) {
    this.#errors = errors;
    this.#logger = logger;
  }

  /** Logs and counts one unexpected error. Never throws. */
  record(source: ErrorSource, error: unknown, context: Record<string, unknown> = {}): void {
    try {
      this.#errors.inc({ source });
      this.#logger.error({ ...context, source, err: messageOf(error) }, 'HTTP server error');
    } catch {
      // Nothing left to tell: the counter or the logger itself failed.
    }
  }

  /**
   * `callback` made safe to hand to a timer or an event emitter: what it throws is recorded
   * (as from `source`) and `cleanup` runs, never throwing either.
   */
  guard<A extends unknown[]>(
    source: ErrorSource,
    callback: (...args: A) => void,
    cleanup: () => void = () => undefined,
  ): (...args: A) => void {
    return (...args: A) => {
      try {
        callback(...args);
      } catch (error) {
        this.record(source, error);
        try {
          cleanup();
        } catch (cleanupError) {
          this.record(source, cleanupError);
        }
      }
    };
  }
}

/** An error's message (never its stack), or what was thrown as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
