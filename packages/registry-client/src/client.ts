import type { IncomingMessage } from 'node:http';
import {
  type Backend,
  type ChangesOptions,
  createRegistryReplica,
  deepEqual,
  type RegistryChange,
  type RegistryReader,
  type RegistryReplica,
  type RegistrySnapshot,
  type ReplicaUpdateOptions,
  type WaitOptions,
} from '@vmcp/registry';
import { type Clock, systemClock } from './clock.js';
import {
  Backoff,
  type BackoffOptions,
  type ConnectionInput,
  type ConnectionPhase,
  type ConnectionPolicy,
  type ConnectionState,
  initialState,
  type Transport,
  type TransportMode,
  transition,
} from './connection.js';
import { RegistryClientError } from './errors.js';
import { discard, NoAnswerError, readBody, retryAfterMs, send } from './http.js';
import { attachMetrics } from './metrics.js';
import {
  type BackendList,
  type Change,
  ProtocolError,
  parseChange,
  parseHeartbeat,
  parseList,
} from './protocol.js';
import { type SseEvent, SseParser } from './sse.js';

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

/** Options of {@link connectRegistry}. */
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
   * A live stream that carries nothing (not even a heartbeat) for this long is stalled: it is
   * dropped and resumed. Default three of the sidecar's announced heartbeat intervals (45 s
   * with the sidecar's default of 15 s).
   */
  idleTimeoutMs?: number;
  /** An answer's headers, and a stream's first heartbeat, must arrive within this. Default 10 s. */
  connectTimeoutMs?: number;
  /** `timeoutSeconds` of each long-poll. Default 30. */
  longPollTimeoutSeconds?: number;
  /** Streams in a row that cannot be held before falling back to the long-poll. Default 3. */
  fallbackAfter?: number;
  /** While on the long-poll, how often to try whether a stream can be held again. Default 30 s. */
  streamRetryMs?: number;
  /** Reconnect delays. Default 200 ms doubling to 10 s, jitter ±30 %. */
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

/** What a client knows about its connection, for logs, health checks and metrics. */
export interface RegistryClientStatus {
  readonly phase: ConnectionPhase;
  readonly transport: Transport;
  /** True once the first snapshot of a ready sidecar is held. Stays true. */
  readonly synced: boolean;
  /** The sidecar's version of what is held (`version` differs only after a backwards restart). */
  readonly sidecarVersion: number | undefined;
  /** Versions the sidecar announced beyond what is held (0 when current). */
  readonly versionLag: number;
  /**
   * `secrets` when the held backends carry secret values, `redacted` when they are
   * `[REDACTED]`, as the sidecar says of its answers; undefined before the first.
   */
  readonly access: 'secrets' | 'redacted' | undefined;
  /** Attempts that ended in a retry, by reason. */
  readonly reconnects: Readonly<Record<string, number>>;
  /** Snapshots taken after the first (sidecar restarts, resumes past its history). */
  readonly resets: number;
  /** What stopped the client for good (401, another 4xx), if anything. */
  readonly error: RegistryClientError | undefined;
}

/**
 * The sidecar's registry in this process: a {@link RegistryReader} (the same read interface as
 * `@vmcp/registry`'s dynamic registry, so consumer code and `memoByVersion` run unchanged) kept
 * current over HTTP.
 */
export interface RegistryClient extends RegistryReader, AsyncDisposable {
  /** The sidecar's URL (origin and path). */
  readonly url: string;
  /**
   * Resolves once the first snapshot of a ready sidecar is held (as its `/readyz` turns 200);
   * rejects when the client fails (401) or is closed first.
   */
  readonly ready: Promise<void>;
  /** True once {@link ready}. */
  hasSynced(): boolean;
  /**
   * Resolves true once synced, false when `timeoutMs` passes first; rejects with the signal's
   * reason when aborted, and with the client's error when it fails or is closed first.
   */
  waitForSync(options?: WaitOptions): Promise<boolean>;
  status(): RegistryClientStatus;
  /**
   * Stops: ends the connection, every feed (without an error) and every wait (with a `Closed`
   * error), and cancels every timer. Reads keep answering with the last snapshot. Idempotent.
   */
  close(): Promise<void>;
}

/** The state of one event stream while it is read. */
interface StreamSession {
  /** Whether its first heartbeat came (from a ready sidecar). */
  live: boolean;
  /** How long it may stay silent: the connect timeout, then the idle timeout once live. */
  limit: number;
  lastEventAt: number;
  settled: boolean;
  /** Ends the stream with what happened; only the first call counts. */
  finish(input: ConnectionInput): void;
}

/** Probes for a stream while long-polling: `held` aborts once one was held. */
interface StreamProbes {
  held: AbortSignal;
  stop(): void;
}

const CLOSE: ConnectionInput = { type: 'close' };
const ACCESS = new Set(['secrets', 'redacted']);
/** The replica takes what was parsed from an answer instead of copying it. */
const ADOPT: ReplicaUpdateOptions = Object.freeze({ adopt: true });

/**
 * Connects to a `vmcp-backend-watcher` sidecar and keeps its registry here. Returns at once;
 * reads throw a `NotSynced` {@link RegistryClientError} until the first snapshot of a ready
 * sidecar is held (`await client.ready`).
 *
 * @example
 * await using registry = connectRegistry({ url: 'http://127.0.0.1:8080', signal });
 * await registry.ready;
 * const tools = memoByVersion(registry, () => aggregate(registry.list()));
 */
export function connectRegistry(options: RegistryClientOptions): RegistryClient {
  return new Client(options);
}

class Client implements RegistryClient {
  readonly url: string;
  readonly ready: Promise<void>;
  readonly #base: URL;
  readonly #auth: Record<string, string>;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #policy: ConnectionPolicy;
  readonly #replica: RegistryReplica;
  readonly #timing: {
    idleTimeoutMs: number | undefined;
    connectTimeoutMs: number;
    pollSeconds: number;
    streamRetryMs: number;
  };
  /** Aborted by close(): ends the connection loop. */
  readonly #stop = new AbortController();
  /** Aborted by close() or a failure: ends every feed and wait. */
  readonly #feeds = new AbortController();
  readonly #settleReady: { resolve: () => void; reject: (error: Error) => void };
  readonly #reconnects: Record<string, number> = {};
  readonly #detachMetrics: () => void;
  readonly #removeSignalListener: () => void;
  readonly #running: Promise<void>;
  #state: ConnectionState;
  #synced = false;
  /** Added to the sidecar's versions so that ours never go back (see #takeSnapshot). */
  #offset = 0;
  /** The newest sidecar version announced (heartbeats, answers), for the lag. */
  #announced = 0;
  #access: 'secrets' | 'redacted' | undefined;
  #resets = 0;
  #error: RegistryClientError | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RegistryClientOptions) {
    this.#base = baseUrl(options.url);
    this.url = `${this.#base.origin}${this.#base.pathname}`;
    this.#auth = authHeaders(options.token);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    const mode = options.transport ?? 'auto';
    if (!['auto', 'events', 'long-poll'].includes(mode)) {
      throw new TypeError(`connectRegistry: transport must be auto, events or long-poll`);
    }
    this.#policy = {
      mode,
      fallbackAfter: positive(options.fallbackAfter ?? 3, 'fallbackAfter'),
      backoff: new Backoff(options.backoff, options.random),
      notReadyMaxMs: 1000,
    };
    this.#timing = {
      idleTimeoutMs:
        options.idleTimeoutMs === undefined
          ? undefined
          : positive(options.idleTimeoutMs, 'idleTimeoutMs'),
      connectTimeoutMs: positive(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs'),
      pollSeconds: positive(options.longPollTimeoutSeconds ?? 30, 'longPollTimeoutSeconds'),
      streamRetryMs: positive(options.streamRetryMs ?? 30_000, 'streamRetryMs'),
    };
    this.#replica = createRegistryReplica({ historyLimit: options.historyLimit ?? 1024 });
    this.#state = initialState(mode);
    let settle!: { resolve: () => void; reject: (error: Error) => void };
    this.ready = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Marked handled: a program that never awaits `ready` must not die of its rejection.
    this.ready.catch(() => undefined);
    this.#settleReady = settle;
    this.#detachMetrics = options.metrics
      ? attachMetrics(options.metrics.registry, options.metrics.name ?? this.url, () =>
          this.status(),
        )
      : () => undefined;
    const { signal } = options;
    const onAbort = (): void => void this.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#removeSignalListener = () => signal?.removeEventListener('abort', onAbort);
    this.#running = this.#run();
    if (signal?.aborted) onAbort();
  }

  // --- The reader -------------------------------------------------------------------------

  get version(): number {
    return this.#held().version;
  }

  get(id: string): Backend | undefined {
    return this.#held().get(id);
  }

  list(): readonly Backend[] {
    return this.#held().list();
  }

  count(): number {
    return this.#held().count();
  }

  snapshot(): RegistrySnapshot {
    return this.#held().snapshot();
  }

  changes(options: ChangesOptions = {}): AsyncIterableIterator<RegistryChange> {
    const signal = anySignal(options.signal, this.#feeds.signal);
    // Before the first snapshot no version means anything: the feed starts with it (a reset).
    const inner = this.#replica.changes(
      this.#synced && options.sinceVersion !== undefined
        ? { signal, sinceVersion: options.sinceVersion }
        : { signal },
    );
    // A feed ended by the client's failure throws its error, unless the caller's signal ended it.
    const settled = (next: IteratorResult<RegistryChange>): IteratorResult<RegistryChange> => {
      if (next.done && this.#error !== undefined && !options.signal?.aborted) throw this.#error;
      return next;
    };
    const iterator: AsyncIterableIterator<RegistryChange> = {
      [Symbol.asyncIterator]: () => iterator,
      // Not an async function: this runs once per change on every feed, and one `then` costs
      // a fraction of what an async function's promise and await do.
      next: () => inner.next().then(settled),
      return: () => inner.return?.() ?? Promise.resolve({ done: true, value: undefined }),
    };
    return iterator;
  }

  async waitForChange(
    sinceVersion: number,
    options: WaitOptions = {},
  ): Promise<{ changed: boolean; version: number }> {
    const { signal, timeoutMs } = options;
    signal?.throwIfAborted();
    this.#throwIfStopped();
    const started = this.#clock.now();
    if (!this.#synced && !(await this.waitForSync(options))) throw this.#notSynced();
    const left =
      timeoutMs === undefined ? undefined : Math.max(0, timeoutMs - (this.#clock.now() - started));
    try {
      return await this.#replica.waitForChange(sinceVersion, {
        signal: anySignal(signal, this.#feeds.signal),
        ...(left === undefined ? {} : { timeoutMs: left }),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      this.#throwIfStopped();
      throw error;
    }
  }

  // --- Readiness and lifecycle ------------------------------------------------------------

  hasSynced(): boolean {
    return this.#synced;
  }

  async waitForSync(options: WaitOptions = {}): Promise<boolean> {
    const { signal, timeoutMs } = options;
    signal?.throwIfAborted();
    if (this.#synced) return true;
    this.#throwIfStopped();
    return new Promise<boolean>((resolve, reject) => {
      let cancelTimer = (): void => undefined;
      const finish = (settle: () => void): void => {
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const onAbort = (): void => finish(() => reject(signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        cancelTimer = this.#clock.setTimer(timeoutMs, () => finish(() => resolve(false)));
      }
      this.ready.then(
        () => finish(() => resolve(true)),
        (error: Error) => finish(() => reject(error)),
      );
    });
  }

  status(): RegistryClientStatus {
    const sidecarVersion = this.#sidecarVersion();
    return {
      phase: this.#state.phase,
      transport: this.#state.transport,
      synced: this.#synced,
      sidecarVersion,
      versionLag: sidecarVersion === undefined ? 0 : Math.max(0, this.#announced - sidecarVersion),
      access: this.#access,
      reconnects: { ...this.#reconnects },
      resets: this.#resets,
      error: this.#error,
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#running;
      this.#removeSignalListener();
      this.#feeds.abort();
      if (!this.#synced && this.#error === undefined) {
        this.#settleReady.reject(new RegistryClientError('Closed', `${this.url}: client closed`));
      }
      this.#detachMetrics();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The sidecar's version of what is held; undefined before the first snapshot. */
  #sidecarVersion(): number | undefined {
    return this.#synced ? this.#replica.version - this.#offset : undefined;
  }

  #held(): RegistryReplica {
    if (this.#synced) return this.#replica;
    throw this.#error ?? this.#notSynced();
  }

  #notSynced(): RegistryClientError {
    return new RegistryClientError(
      'NotSynced',
      `${this.url}: no snapshot of the registry is held yet; await client.ready (or waitForSync) before reading`,
    );
  }

  #throwIfStopped(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#stop.signal.aborted) {
      throw new RegistryClientError('Closed', `${this.url}: client closed`);
    }
  }

  // --- The connection loop ----------------------------------------------------------------

  async #run(): Promise<void> {
    try {
      for (;;) {
        const { phase, transport, delayMs } = this.#state;
        if (phase === 'closed' || phase === 'failed') return;
        const input =
          phase === 'backingOff'
            ? await this.#sleep(delayMs, { type: 'retryDue' })
            : transport === 'events'
              ? await this.#stream()
              : await this.#poll();
        this.#apply(this.#stop.signal.aborted ? CLOSE : input);
      }
    } catch (error) {
      // A bug, not a fault of the sidecar: say so, and stop rather than spin.
      this.#fail(
        new RegistryClientError('Rejected', `${this.url}: client stopped: ${messageOf(error)}`),
      );
      this.#apply({ type: 'rejected' });
    }
  }

  #apply(input: ConnectionInput): void {
    const before = this.#state;
    this.#state = transition(before, input, this.#policy);
    const after = this.#state;
    if (after.phase === 'backingOff' && before.phase !== 'backingOff') {
      const reason = reasonOf(input);
      this.#reconnects[reason] = (this.#reconnects[reason] ?? 0) + 1;
      this.#logger?.debug(
        { url: this.url, reason, delayMs: after.delayMs, transport: after.transport },
        'registry client retrying',
      );
    }
    if (after.transport !== before.transport) {
      this.#logger?.info(
        { url: this.url, transport: after.transport },
        after.transport === 'long-poll'
          ? 'event stream cannot be held; following the registry by long-poll'
          : 'event stream held again; following the registry by stream',
      );
    }
  }

  /** Resolves `input` after `ms`, or `close` at once when the client closes. */
  #sleep(ms: number, input: ConnectionInput, signal = this.#stop.signal): Promise<ConnectionInput> {
    if (signal.aborted) return Promise.resolve(CLOSE);
    return new Promise((resolve) => {
      const done = (value: ConnectionInput): void => {
        cancel();
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = (): void => done(CLOSE);
      const cancel = this.#clock.setTimer(ms, () => done(input));
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #fail(error: RegistryClientError): ConnectionInput {
    if (this.#error === undefined) {
      this.#error = error;
      this.#logger?.error({ url: this.url, reason: error.reason }, error.message);
      if (!this.#synced) this.#settleReady.reject(error);
      this.#feeds.abort();
    }
    return { type: 'rejected' };
  }

  /** The input for an answer other than 200, or undefined for a 200. */
  #refusal(response: IncomingMessage, path: string): ConnectionInput | undefined {
    const status = response.statusCode ?? 0;
    if (status === 200) return undefined;
    discard(response);
    if (status === 401) {
      return this.#fail(
        new RegistryClientError(
          'Unauthorized',
          `${this.url}${path} answered 401: ${
            this.#auth.authorization === undefined
              ? 'it wants credentials (a proxy in front of the sidecar?)'
              : "the token does not match the sidecar's --api-token-file"
          }`,
          401,
        ),
      );
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return this.#fail(
        new RegistryClientError(
          'Rejected',
          `${this.url}${path} answered ${status}: is this the sidecar's URL?`,
          status,
        ),
      );
    }
    const after = retryAfterMs(response);
    return after === undefined
      ? { type: 'unreachable' }
      : { type: 'unreachable', retryAfterMs: after };
  }

  #takeAccess(response: IncomingMessage): void {
    const access = response.headers['vmcp-access'];
    if (typeof access === 'string' && ACCESS.has(access)) {
      this.#access = access as 'secrets' | 'redacted';
    }
  }

  #endpoint(path: string): URL {
    return new URL(path, this.#base);
  }

  // --- The event stream -------------------------------------------------------------------

  /** One event stream, from connecting to its end. */
  async #stream(): Promise<ConnectionInput> {
    const attempt = new AbortController();
    const signal = AbortSignal.any([this.#stop.signal, attempt.signal]);
    const headers: Record<string, string> = { ...this.#auth, accept: 'text/event-stream' };
    const held = this.#sidecarVersion();
    if (held !== undefined) headers['last-event-id'] = String(held);
    let response: IncomingMessage;
    try {
      response = await send(this.#endpoint('v1/events'), {
        headers,
        signal,
        timeoutMs: this.#timing.connectTimeoutMs,
        clock: this.#clock,
      });
    } catch (error) {
      return this.#noAnswer(error);
    }
    const refused = this.#refusal(response, '/v1/events');
    if (refused !== undefined) return refused;
    if (!String(response.headers['content-type']).startsWith('text/event-stream')) {
      discard(response);
      return { type: 'streamNotHeld' };
    }
    this.#takeAccess(response);
    return this.#read(response, attempt);
  }

  /** Reads an event stream until it ends, stalls or says something malformed. */
  #read(response: IncomingMessage, attempt: AbortController): Promise<ConnectionInput> {
    return new Promise<ConnectionInput>((resolve) => {
      const stream: StreamSession = {
        live: false,
        limit: this.#timing.connectTimeoutMs,
        lastEventAt: this.#clock.now(),
        settled: false,
        finish: (input) => {
          if (stream.settled) return;
          stream.settled = true;
          cancelTimer();
          parser.end();
          attempt.abort();
          response.destroy();
          resolve(this.#stop.signal.aborted ? CLOSE : input);
        },
      };
      let cancelTimer = (): void => undefined;
      // One timer, re-armed for what is left when it fires: cheap whatever the event rate.
      const watch = (): void => {
        const idle = this.#clock.now() - stream.lastEventAt;
        if (idle < stream.limit) {
          cancelTimer = this.#clock.setTimer(stream.limit - idle, watch);
          return;
        }
        this.#logger?.debug({ url: this.url, idleMs: idle }, 'event stream silent; dropping it');
        stream.finish(
          stream.live ? { type: 'dropped', reason: 'stall' } : { type: 'streamNotHeld' },
        );
      };
      cancelTimer = this.#clock.setTimer(stream.limit, watch);
      const parser = new SseParser((event) => this.#onEvent(stream, event));
      response.setEncoding('utf8');
      response.on('data', (text: string) => parser.push(text));
      const ended = (): void =>
        stream.finish(
          stream.live ? { type: 'dropped', reason: 'ended' } : { type: 'streamNotHeld' },
        );
      response.once('end', ended);
      response.once('close', ended);
      response.once('error', ended);
    });
  }

  /** One event of a stream: a heartbeat (the first one makes it live), a snapshot or a change. */
  #onEvent(stream: StreamSession, event: SseEvent): void {
    if (stream.settled) return;
    stream.lastEventAt = this.#clock.now();
    try {
      if (event.type === 'heartbeat') {
        this.#onHeartbeat(stream, parseHeartbeat(event.data));
        return;
      }
      if (event.type !== 'snapshot' && event.type !== 'change') return;
      if (!stream.live) throw new ProtocolError(`a ${event.type} before the first heartbeat`);
      if (event.type === 'snapshot') this.#takeSnapshot(parseList(event.data, 'snapshot'));
      else this.#takeChange(parseChange(event.data));
    } catch (error) {
      this.#malformed(error, event);
      stream.finish({ type: 'dropped', reason: 'malformed' });
    }
  }

  #onHeartbeat(stream: StreamSession, heartbeat: ReturnType<typeof parseHeartbeat>): void {
    this.#announced = Math.max(this.#announced, heartbeat.version);
    if (stream.live) return;
    if (!heartbeat.ready) {
      stream.finish({ type: 'notReady' });
      return;
    }
    stream.live = true;
    stream.limit = this.#timing.idleTimeoutMs ?? Math.max(3 * heartbeat.intervalMs, 1000);
    this.#apply({ type: 'streamLive' });
  }

  #malformed(error: unknown, event?: SseEvent): void {
    this.#logger?.warn(
      { url: this.url, event: event?.type, err: messageOf(error) },
      'malformed answer from the sidecar; reconnecting',
    );
  }

  #noAnswer(error: unknown): ConnectionInput {
    if (this.#stop.signal.aborted) return CLOSE;
    if (!(error instanceof NoAnswerError)) throw error;
    return { type: 'unreachable' };
  }

  // --- The long-poll ----------------------------------------------------------------------

  /** Long-polls until one fails or a probe finds that a stream can be held again. */
  async #poll(): Promise<ConnectionInput> {
    const readiness = await this.#checkReady();
    if (readiness !== undefined) return readiness;
    const probes = this.#policy.mode === 'auto' ? this.#probeStreams() : undefined;
    try {
      for (;;) {
        const ended = await this.#pollOnce(probes);
        if (ended !== undefined) return ended;
      }
    } finally {
      probes?.stop();
    }
  }

  /** One long-poll: undefined when polling goes on, else what ended it. */
  async #pollOnce(probes: StreamProbes | undefined): Promise<ConnectionInput | undefined> {
    const held = this.#sidecarVersion();
    const path =
      held === undefined
        ? 'v1/backends'
        : `v1/backends?watch=${held}&timeoutSeconds=${this.#timing.pollSeconds}`;
    const signal = probes ? AbortSignal.any([this.#stop.signal, probes.held]) : this.#stop.signal;
    let list: BackendList | undefined;
    try {
      const response = await send(this.#endpoint(path), {
        headers: { ...this.#auth, 'accept-encoding': 'gzip' },
        signal,
        timeoutMs: this.#timing.pollSeconds * 1000 + this.#timing.connectTimeoutMs,
        clock: this.#clock,
      });
      if (response.statusCode === 304) discard(response);
      else {
        const refused = this.#refusal(response, '/v1/backends');
        if (refused !== undefined) return refused;
        this.#takeAccess(response);
        list = parseList(await readBody(response), 'list');
      }
    } catch (error) {
      return this.#pollFailed(error, probes);
    }
    if (list !== undefined) {
      this.#announced = Math.max(this.#announced, list.version);
      this.#takeList(list);
    }
    if (this.#state.phase !== 'polling') this.#apply({ type: 'pollAnswered' });
    return probes?.held.aborted ? { type: 'streamAvailable' } : undefined;
  }

  /** What a failed long-poll means: a stream held again, a malformed answer, or no answer. */
  #pollFailed(error: unknown, probes: StreamProbes | undefined): ConnectionInput {
    if (probes?.held.aborted && !this.#stop.signal.aborted) return { type: 'streamAvailable' };
    if (error instanceof ProtocolError) {
      this.#malformed(error);
      return { type: 'dropped', reason: 'malformed' };
    }
    return this.#noAnswer(error);
  }

  /** `/readyz` before the first long-poll of a run: a sidecar that is not ready is not taken. */
  async #checkReady(): Promise<ConnectionInput | undefined> {
    try {
      const response = await send(this.#endpoint('readyz'), {
        headers: {},
        signal: this.#stop.signal,
        timeoutMs: this.#timing.connectTimeoutMs,
        clock: this.#clock,
      });
      discard(response);
      // Anything but 503 (a proxy that does not route /readyz) leaves the answers to tell.
      return response.statusCode === 503 ? { type: 'notReady' } : undefined;
    } catch (error) {
      return this.#noAnswer(error);
    }
  }

  /** Every `streamRetryMs`, tries whether a stream is held; `held` aborts when one was. */
  #probeStreams(): StreamProbes {
    const held = new AbortController();
    const stop = new AbortController();
    const signal = AbortSignal.any([this.#stop.signal, stop.signal]);
    void (async () => {
      while (!signal.aborted) {
        if (
          (await this.#sleep(this.#timing.streamRetryMs, { type: 'retryDue' }, signal)) === CLOSE
        ) {
          return;
        }
        if (await this.#probe(signal)) {
          held.abort();
          return;
        }
      }
    })().catch(() => undefined);
    return { held: held.signal, stop: () => stop.abort() };
  }

  /** Whether an event stream delivers a ready heartbeat within the connect timeout. */
  async #probe(signal: AbortSignal): Promise<boolean> {
    const attempt = new AbortController();
    const abort = AbortSignal.any([signal, attempt.signal]);
    try {
      const response = await send(this.#endpoint('v1/events'), {
        headers: { ...this.#auth, accept: 'text/event-stream' },
        signal: abort,
        timeoutMs: this.#timing.connectTimeoutMs,
        clock: this.#clock,
      });
      if (response.statusCode !== 200) {
        discard(response);
        return false;
      }
      return await new Promise<boolean>((resolve) => {
        let settled = false;
        const finish = (held: boolean): void => {
          if (settled) return;
          settled = true;
          cancel();
          response.destroy();
          resolve(held);
        };
        const cancel = this.#clock.setTimer(this.#timing.connectTimeoutMs, () => finish(false));
        const parser = new SseParser((event) => {
          if (event.type !== 'heartbeat') return;
          try {
            finish(parseHeartbeat(event.data).ready);
          } catch {
            finish(false);
          }
        });
        response.setEncoding('utf8');
        response.on('data', (text: string) => parser.push(text));
        response.once('close', () => finish(false));
        response.once('error', () => finish(false));
      });
    } catch {
      return false;
    } finally {
      attempt.abort();
    }
  }

  // --- Taking what the sidecar sends ------------------------------------------------------

  /**
   * The whole content: the first snapshot, a resume past the sidecar's history, or a restarted
   * sidecar. Our versions are the sidecar's; only if its version went back (its clock stepped
   * back across a restart, or a server that starts at 0) are they shifted up, so that a version
   * never names two contents and nothing derived with `memoByVersion` is taken for current.
   */
  #takeSnapshot(list: BackendList): void {
    const current = this.#replica.version;
    const version = list.version > current ? list.version : current + 1;
    this.#offset = version - list.version;
    // What the sidecar sent was parsed for this call alone: the replica keeps it, frozen.
    this.#replica.reset(version, list.backends, ADOPT);
    if (this.#synced) {
      this.#resets++;
      return;
    }
    this.#synced = true;
    this.#settleReady.resolve();
    this.#logger?.info({ url: this.url, version: list.version }, 'registry synced');
  }

  /** The change after the one held; ones already held (a resume) are skipped. */
  #takeChange(change: Change): void {
    const held = this.#sidecarVersion();
    if (held === undefined) throw new ProtocolError('a change before any snapshot');
    if (change.version <= held) return;
    if (change.version !== held + 1) {
      throw new ProtocolError(`change ${change.version} does not follow ${held}`);
    }
    const { upserted, removed } = change;
    this.#replica.applyChange({ version: change.version + this.#offset, upserted, removed }, ADOPT);
  }

  /**
   * A long-poll answer: the next version becomes a change (what the stream would have sent), a
   * jump of several a reset: the changes in between are not known, and a gap is never silent.
   */
  #takeList(list: BackendList): void {
    const held = this.#sidecarVersion();
    if (held === undefined || list.version !== held + 1) {
      this.#takeSnapshot(list);
      return;
    }
    const ids = new Set(list.backends.map((backend) => backend.id));
    const upserted = list.backends.filter((backend) => {
      const before = this.#replica.get(backend.id);
      return before === undefined || !deepEqual(before, backend);
    });
    const removed = this.#replica
      .list()
      .filter((backend) => !ids.has(backend.id))
      .map((backend) => backend.id);
    this.#replica.applyChange({ version: list.version + this.#offset, upserted, removed }, ADOPT);
  }
}

/** The `reason` label of a retry. */
function reasonOf(input: ConnectionInput): string {
  switch (input.type) {
    case 'dropped':
      return input.reason;
    case 'streamNotHeld':
      return 'stream-not-held';
    case 'notReady':
      return 'not-ready';
    default:
      return 'unreachable';
  }
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

function anySignal(first: AbortSignal | undefined, second: AbortSignal): AbortSignal {
  return first === undefined ? second : AbortSignal.any([first, second]);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
