import type { IncomingMessage } from 'node:http';
import type { ConnectionInput } from './connection.js';
import { NoAnswerError, retryAfterMs, send } from './http.js';
import type { Settings } from './options.js';
import type { Answer } from './refusal.js';
import type { SidecarReplica } from './replica.js';

/**
 * What a transport session (an event stream, a run of long-polls, the stream probes) works with.
 * A session ends by returning the input that ended it; what happens on the way (a stream went
 * live, held) it reports.
 */
export interface Session {
  readonly settings: Settings;
  readonly replica: SidecarReplica;
  /** Aborted when the client closes: every session ends with `close`. */
  readonly stop: AbortSignal;
  /** An input that happened during the session. */
  report(input: ConnectionInput): void;
}

/** The input that ends every session once the client closes. */
export const CLOSE: ConnectionInput = Object.freeze({ type: 'close' });

/** A GET of `path` (relative to the sidecar's URL) whose headers must arrive in `timeoutMs`. */
export function get(
  session: Session,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  timeoutMs = session.settings.timing.connectTimeoutMs,
): Promise<IncomingMessage> {
  const { base, clock } = session.settings;
  return send(new URL(path, base), { headers, signal, timeoutMs, clock });
}

/** The status and Retry-After of an answer, for `refusalOf`. */
export function answerOf(response: IncomingMessage): Answer {
  return { status: response.statusCode ?? 0, retryAfterMs: retryAfterMs(response) };
}

/** A request that failed: `close` when the client is closing, else `unreachable`. */
export function noAnswer(session: Session, error: unknown): ConnectionInput {
  if (session.stop.aborted) return CLOSE;
  if (!(error instanceof NoAnswerError)) throw error;
  return { type: 'unreachable' };
}

/** Logs something malformed from the sidecar: what was wrong, never the bytes. */
export function logMalformed(session: Session, error: unknown, event?: string): void {
  session.settings.logger?.warn(
    {
      url: session.settings.url,
      event,
      err: error instanceof Error ? error.message : String(error),
    },
    'malformed answer from the sidecar; reconnecting',
  );
}
