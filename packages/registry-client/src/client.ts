import type {
  Backend,
  ChangesOptions,
  RegistryChange,
  RegistryReader,
  RegistryReplica,
  RegistrySnapshot,
  WaitOptions,
} from '@vmcp/registry';
import { Connector } from './connector.js';
import { RegistryClientError } from './errors.js';
import { attachMetrics } from './metrics.js';
import { type RegistryClientOptions, resolveOptions, type Settings } from './options.js';
import { Readiness } from './readiness.js';
import { SidecarReplica } from './replica.js';
import { type RegistryClientStatus, statusOf } from './status.js';

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

/**
 * Connects to a `vmcp-backend-watcher` sidecar and keeps its registry here. Returns at once;
 * reads throw a `NotSynced` {@link RegistryClientError} until the first snapshot of a ready
 * sidecar is held (`await client.ready`). Options out of range throw at once (`RangeError`).
 *
 * @example
 * await using registry = connectRegistry({ url: 'http://127.0.0.1:8080', signal });
 * await registry.ready;
 * const tools = memoByVersion(registry, () => aggregate(registry.list()));
 */
export function connectRegistry(options: RegistryClientOptions): RegistryClient {
  return new Client(options);
}

/**
 * The façade: reads, feeds and waits go to the replica, readiness to {@link Readiness}, the
 * connection to the {@link Connector}; this class wires them and owns their lifecycle.
 */
class Client implements RegistryClient {
  readonly url: string;
  readonly ready: Promise<void>;
  readonly #settings: Settings;
  readonly #replica: SidecarReplica;
  readonly #readiness: Readiness;
  readonly #connector: Connector;
  /** Aborted by close(): ends the connection. */
  readonly #stop = new AbortController();
  /** Aborted by close() or a failure: ends every feed and wait. */
  readonly #feeds = new AbortController();
  readonly #detachMetrics: () => void;
  readonly #removeSignalListener: () => void;
  readonly #running: Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(options: RegistryClientOptions) {
    const settings = resolveOptions(options);
    this.#settings = settings;
    this.url = settings.url;
    this.#readiness = new Readiness(settings.clock);
    this.ready = this.#readiness.ready;
    this.#replica = new SidecarReplica({
      historyLimit: settings.historyLimit,
      onSynced: (version) => {
        this.#readiness.resolve();
        settings.logger?.info({ url: this.url, version }, 'registry synced');
      },
    });
    this.#connector = new Connector(settings, this.#replica, this.#stop.signal, (error) => {
      this.#readiness.reject(error);
      this.#feeds.abort();
    });
    this.#detachMetrics = options.metrics
      ? attachMetrics(options.metrics.registry, options.metrics.name ?? this.url, () =>
          this.status(),
        )
      : () => undefined;
    const { signal } = options;
    const onAbort = (): void => void this.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#removeSignalListener = () => signal?.removeEventListener('abort', onAbort);
    this.#running = this.#connector.run();
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
    const inner = this.#replica.reader.changes(
      this.#readiness.synced && options.sinceVersion !== undefined
        ? { signal, sinceVersion: options.sinceVersion }
        : { signal },
    );
    // A feed ended by the client's failure throws its error, unless the caller's signal ended it.
    const settled = (next: IteratorResult<RegistryChange>): IteratorResult<RegistryChange> => {
      const { error } = this.#connector.state;
      if (next.done && error !== undefined && !options.signal?.aborted) throw error;
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
    const { clock } = this.#settings;
    const started = clock.now();
    if (!this.#readiness.synced && !(await this.waitForSync(options))) throw this.#notSynced();
    const reader = this.#replica.reader;
    if (reader.version !== sinceVersion) return { changed: true, version: reader.version };
    // The timeout runs on the client's clock, as every timer of the client does.
    const timeout = new AbortController();
    const cancel =
      timeoutMs === undefined
        ? () => undefined
        : clock.setTimer(timeoutMs - (clock.now() - started), () => timeout.abort());
    const signals = [this.#feeds.signal, timeout.signal];
    try {
      return await reader.waitForChange(sinceVersion, {
        signal: AbortSignal.any(signal === undefined ? signals : [signal, ...signals]),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      this.#throwIfStopped();
      if (timeout.signal.aborted) return { changed: false, version: reader.version };
      throw error;
    } finally {
      cancel();
    }
  }

  // --- Readiness and lifecycle ------------------------------------------------------------

  hasSynced(): boolean {
    return this.#readiness.synced;
  }

  async waitForSync(options: WaitOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    if (this.#readiness.synced) return true;
    this.#throwIfStopped();
    return this.#readiness.wait(options);
  }

  status(): RegistryClientStatus {
    return statusOf(this.#connector, this.#replica);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#running;
      this.#removeSignalListener();
      this.#feeds.abort();
      this.#readiness.reject(new RegistryClientError('Closed', `${this.url}: client closed`));
      this.#detachMetrics();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #held(): RegistryReplica {
    if (this.#readiness.synced) return this.#replica.reader;
    throw this.#connector.state.error ?? this.#notSynced();
  }

  #notSynced(): RegistryClientError {
    return new RegistryClientError(
      'NotSynced',
      `${this.url}: no snapshot of the registry is held yet; await client.ready (or waitForSync) before reading`,
    );
  }

  #throwIfStopped(): void {
    const { error } = this.#connector.state;
    if (error !== undefined) throw error;
    if (this.#stop.signal.aborted) {
      throw new RegistryClientError('Closed', `${this.url}: client closed`);
    }
  }
}

function anySignal(first: AbortSignal | undefined, second: AbortSignal): AbortSignal {
  return first === undefined ? second : AbortSignal.any([first, second]);
}
