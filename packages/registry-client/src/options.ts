import { Backoff, type BackoffOptions } from './backoff.js';
import { type Clock, checkDuration, type DurationRange, systemClock } from './clock.js';
import type { ConnectionPolicy, TransportMode } from './connection.js';
import { LONG_POLL_TIMEOUT_SECONDS } from './protocol.js';

/**
 * A log method: fields and an optional message (`logger.info({ name }, 'reconciled')`), or a
 * message alone (pino's call shape).
 */
export type LogFn = (fieldsOrMessage: Record<string, unknown> | string, message?: string) => void;

/**
 * A structured logger, the shape every vmcp-k8s package takes (`@vmcp/kube-runtime`'s `Logger`
 * is the same): pino and `console` both satisfy it as they are.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child?(bindings: Record<string, unknown>): Logger;
}

/**
 * A prom-client `Registry`, typed by the part of its shape the client uses, so that the client's
 * types need no prom-client (an optional peer: installed by programs that ask for metrics).
 */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  metrics(): Promise<string>;
}

/**
 * Options of `connectRegistry`. Every duration is checked against the range stated beside it:
 * a `RangeError` names the option, the value and the limit.
 */
export interface RegistryClientOptions {
  /** The sidecar's base URL, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  url: string | URL;
  /**
   * The sidecar's API token (the content of its `--api-token-file`). With it, secret values are
   * present in what the client holds; without it they are `[REDACTED]` (see `status().access`).
   */
  token?: string;
  /** Closes the client when aborted. */
  signal?: AbortSignal;
  /**
   * `auto` (default): the event stream, falling back to the long-poll while the stream cannot be
   * held; `events` or `long-poll` to use only one.
   */
  transport?: TransportMode;
  /**
   * A live stream that carries nothing (not a byte) for this long is stalled: it is dropped and
   * resumed. Default three of the sidecar's announced heartbeat intervals (45 s with the
   * sidecar's default of 15 s); from 100 ms to 1 h.
   */
  idleTimeoutMs?: number;
  /**
   * An answer's headers, and a stream's first heartbeat, must arrive within this. Default 10 s;
   * from 100 ms to 5 min.
   */
  connectTimeoutMs?: number;
  /** `timeoutSeconds` of each long-poll: an integer from 1 to 300, as the sidecar takes. Default 30. */
  longPollTimeoutSeconds?: number;
  /** Streams in a row that cannot be held before falling back to the long-poll. Default 3. */
  fallbackAfter?: number;
  /**
   * While on the long-poll, how often to try whether a stream can be held again. Default 30 s;
   * from 100 ms to 24 h.
   */
  streamRetryMs?: number;
  /**
   * Reconnect delays. Default 200 ms doubling to 10 s, jitter ±30 %; `initialMs` from 1 ms to
   * 60 s, `maxMs` from `initialMs` to 10 min. A server's `Retry-After` is honoured up to `maxMs`.
   */
  backoff?: BackoffOptions;
  /** Changes kept for `changes({ sinceVersion })`. Default 1024. */
  historyLimit?: number;
  /**
   * Opt-in Prometheus metrics: registered into this prom-client registry (prom-client is loaded
   * only then), labelled `client` (default: the URL).
   */
  metrics?: { registry: MetricsRegistry; name?: string };
  /** Connection events (info), retries (debug), malformed answers (warn). Default silent. */
  logger?: Logger;
  /** For tests: time and the backoff's jitter. */
  clock?: Clock;
  random?: () => number;
}

/** The ranges of the duration options, in milliseconds (`backoff`'s are in `backoff.ts`). */
export const DURATION_RANGES = Object.freeze({
  /** A stall detector: above a heartbeat interval, and not so long a dead stream goes unseen. */
  idleTimeoutMs: { min: 100, max: 3_600_000 },
  /** A request timeout: minutes at most. */
  connectTimeoutMs: { min: 100, max: 300_000 },
  /** A period: a day at most (the long-poll serves meanwhile). */
  streamRetryMs: { min: 100, max: 86_400_000 },
} satisfies Record<string, DurationRange>);

/** How long the client waits for what; all checked. */
export interface Timing {
  /** Undefined: derived from each stream's announced heartbeat interval. */
  readonly idleTimeoutMs: number | undefined;
  readonly connectTimeoutMs: number;
  readonly longPollSeconds: number;
  readonly streamRetryMs: number;
}

/** The options, checked and with their defaults: what the client's parts read. */
export interface Settings {
  /** The base URL, ending in `/`, without query or credentials. */
  readonly base: URL;
  /** The sidecar's origin and path, for messages and the metrics label. */
  readonly url: string;
  readonly auth: Readonly<Record<string, string>>;
  readonly policy: ConnectionPolicy;
  readonly timing: Timing;
  readonly historyLimit: number;
  readonly clock: Clock;
  readonly logger: Logger | undefined;
}

/** Checks every option: `TypeError` for a wrong kind of value, `RangeError` for out of range. */
export function resolveOptions(options: RegistryClientOptions): Settings {
  const base = baseUrl(options.url);
  const mode = options.transport ?? 'auto';
  if (!['auto', 'events', 'long-poll'].includes(mode)) {
    throw new TypeError(`connectRegistry: transport must be auto, events or long-poll`);
  }
  return {
    base,
    url: `${base.origin}${base.pathname}`,
    auth: authHeaders(options.token),
    policy: {
      mode,
      fallbackAfter: positive(options.fallbackAfter ?? 3, 'fallbackAfter'),
      backoff: new Backoff(options.backoff, options.random),
      notReadyMaxMs: 1000,
    },
    timing: timingOf(options),
    historyLimit: options.historyLimit ?? 1024,
    clock: options.clock ?? systemClock,
    logger: options.logger,
  };
}

function timingOf(options: RegistryClientOptions): Timing {
  const { idleTimeoutMs, connectTimeoutMs = 10_000, streamRetryMs = 30_000 } = options;
  return {
    idleTimeoutMs:
      idleTimeoutMs === undefined
        ? undefined
        : checkDuration('idleTimeoutMs', idleTimeoutMs, DURATION_RANGES.idleTimeoutMs),
    connectTimeoutMs: checkDuration(
      'connectTimeoutMs',
      connectTimeoutMs,
      DURATION_RANGES.connectTimeoutMs,
    ),
    longPollSeconds: longPollSeconds(options.longPollTimeoutSeconds),
    streamRetryMs: checkDuration('streamRetryMs', streamRetryMs, DURATION_RANGES.streamRetryMs),
  };
}

/** What the sidecar takes as `timeoutSeconds`, or a `RangeError` now (not a 400 later). */
function longPollSeconds(value: number = LONG_POLL_TIMEOUT_SECONDS.default): number {
  const { min, max } = LONG_POLL_TIMEOUT_SECONDS;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `connectRegistry: longPollTimeoutSeconds ${String(value)} is not an integer from ${min} to ${max} (what the sidecar takes)`,
    );
  }
  return value;
}

function baseUrl(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('connectRegistry: url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`connectRegistry: url must be http or https, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('connectRegistry: put no credentials in the url; pass `token`');
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

function authHeaders(token: string | undefined): Record<string, string> {
  if (token === undefined) return {};
  // Checked without ever quoting it: it is a secret.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new TypeError('connectRegistry: token must be non-empty printable ASCII without spaces');
  }
  return { authorization: `Bearer ${token}` };
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`connectRegistry: ${name} must be a positive number`);
  }
  return value;
}
