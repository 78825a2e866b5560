/**
 * One backend's MCP client: an SDK `Client` over the backend's transport, driven by the state
 * machine of `connection-state.ts`. It connects, lists the backend's tools (again whenever the
 * backend sends `notifications/tools/list_changed`), checks the connection with `ping` (at once
 * when the transport reports an error, else every `healthCheckIntervalMs`), and after a failure
 * closes the client and retries with jittered backoff. Time and randomness are injected.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type CallToolResult,
  CallToolResultSchema,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from '@vmcp/kube-runtime';
import type { SettingsResult } from './backend-settings.js';
import { type RetryPolicy, retryDelayMs } from './backoff.js';
import { type ConnectionEvent, type ConnectionState, nextState } from './connection-state.js';
import type { Logger } from './log.js';
import { describeFailure } from './secrets.js';
import type { BackendTransport, OpenTransport } from './transport.js';

/** What a connection needs from its surroundings. */
export interface BackendConnectionOptions {
  readonly openTransport: OpenTransport;
  readonly clock: Clock;
  /** The jitter's random source, in [0, 1). */
  readonly random: () => number;
  readonly retry: RetryPolicy;
  /** How often a connected backend is pinged. */
  readonly healthCheckIntervalMs: number;
  /** The bound of connecting (transport start and `initialize`), of `ping` and of `tools/list`. */
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** Called after every change of state (tools included). */
  readonly onChange: () => void;
}

/** A `tools/call` reached a backend that is not connected now. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

/** The most pages of `tools/list` read from one backend: a backend that never ends is cut off. */
const MAX_TOOL_PAGES = 100;

/** The connection to one backend, from `start()` until `close()`. */
export class BackendConnection {
  #state: ConnectionState;
  #client: Client | undefined;
  #transport: BackendTransport | undefined;
  /** Moves on every new attempt and on close: a late result of an older attempt is dropped. */
  #generation = 0;
  #cancelTimer: (() => void) | undefined;
  #checking = false;

  constructor(
    readonly id: string,
    readonly settings: SettingsResult,
    private readonly options: BackendConnectionOptions,
  ) {
    this.#state = settings.ok
      ? { phase: 'connecting', failures: 0 }
      : { phase: 'excluded', reason: settings.reason };
  }

  /** The current state (tools included when connected). */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Starts the first attempt (nothing for an excluded backend). */
  start(): void {
    if (this.#state.phase === 'excluded') {
      this.options.logger.warn(
        { backend: this.id, reason: this.#state.reason },
        'backend excluded',
      );
    } else if (this.#state.phase === 'connecting') {
      void this.#connect(this.#generation);
    }
  }

  /** Calls a tool under its original name; rejects with {@link BackendUnavailableError} when down. */
  async callTool(
    name: string,
    args: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<CallToolResult> {
    const client = this.#client;
    if (client === undefined || this.#state.phase !== 'connected') {
      throw new BackendUnavailableError(`backend ${this.id} is ${this.#state.phase}`);
    }
    try {
      const result = await client.callTool({ name, arguments: args }, CallToolResultSchema, {
        signal,
      });
      return result as CallToolResult;
    } catch (error) {
      // A failed call may be the first sign of a dead backend: check now rather than at the next ping.
      void this.#checkHealth(client);
      throw error;
    }
  }

  /** Closes the client and its connections; the connection never comes back. Idempotent. */
  async close(): Promise<void> {
    this.#dispatch({ type: 'close' });
    await this.#dispose();
  }

  /** The secret values of this backend's headers, to scrub from what is shown. */
  get secrets(): readonly string[] {
    return this.settings.ok ? this.settings.settings.secrets : [];
  }

  #dispatch(event: ConnectionEvent): void {
    const previous = this.#state;
    const delay = (failures: number): number =>
      retryDelayMs(failures, this.options.retry, this.options.random);
    const next = nextState(previous, event, delay);
    if (next === previous) return;
    this.#state = next;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#enter(next, previous);
    this.options.onChange();
  }

  #enter(state: ConnectionState, previous: ConnectionState): void {
    const { logger, clock } = this.options;
    switch (state.phase) {
      case 'connecting':
        this.#generation++;
        void this.#connect(this.#generation);
        break;
      case 'connected':
        logger.info({ backend: this.id, tools: state.tools.length }, 'backend connected');
        this.#scheduleHealthCheck();
        break;
      case 'failed':
        logger.warn(
          { backend: this.id, reason: state.reason, retryInMs: state.retryInMs },
          previous.phase === 'connected' ? 'backend lost' : 'backend connection failed',
        );
        void this.#dispose();
        this.#cancelTimer = clock.setTimer(state.retryInMs, () =>
          this.#dispatch({ type: 'retryDue' }),
        );
        break;
      case 'closed':
        this.#generation++;
        break;
    }
  }

  /** One attempt: transport, `initialize`, `tools/list`. Bounded by `requestTimeoutMs`. */
  async #connect(generation: number): Promise<void> {
    if (!this.settings.ok) return;
    const { settings } = this.settings;
    let transport: BackendTransport | undefined;
    const client = new Client({ name: 'vmcp-gateway', version: '0.0.0' }, { capabilities: {} });
    try {
      transport = await this.options.openTransport(settings);
      const opened = transport;
      await this.#withinTimeout(
        (async () => {
          await client.connect(opened.transport, { timeout: this.options.requestTimeoutMs });
          return listAllTools(client, this.options.requestTimeoutMs);
        })(),
        'connecting',
      ).then((tools) => {
        if (generation !== this.#generation) throw new StaleAttempt();
        this.#adopt(client, opened);
        this.#dispatch({ type: 'connected', tools });
      });
    } catch (error) {
      await closeQuietly(client, transport);
      if (error instanceof StaleAttempt || generation !== this.#generation) return;
      this.#dispatch({ type: 'failed', reason: describeFailure(error, settings.secrets) });
    }
  }

  /** Makes `client` the live one and listens to what it reports. */
  #adopt(client: Client, transport: BackendTransport): void {
    this.#client = client;
    this.#transport = transport;
    const isLive = (): boolean => this.#client === client && this.#state.phase === 'connected';
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      if (isLive()) await this.#refreshTools(client);
    });
    // Transport errors include a dropped event stream that the SDK may resume by itself: ask the
    // backend whether it is still there instead of giving up on the first one.
    client.onerror = () => {
      if (isLive()) void this.#checkHealth(client);
    };
    client.onclose = () => {
      if (isLive()) this.#dispatch({ type: 'failed', reason: 'the connection closed' });
    };
  }

  async #refreshTools(client: Client): Promise<void> {
    try {
      const tools = await listAllTools(client, this.options.requestTimeoutMs);
      if (this.#client === client) this.#dispatch({ type: 'toolsChanged', tools });
    } catch (error) {
      if (this.#client === client) this.#fail(error);
    }
  }

  #scheduleHealthCheck(): void {
    const client = this.#client;
    if (client === undefined) return;
    this.#cancelTimer = this.options.clock.setTimer(this.options.healthCheckIntervalMs, () => {
      void this.#checkHealth(client).then(() => {
        if (this.#client === client && this.#state.phase === 'connected')
          this.#scheduleHealthCheck();
      });
    });
  }

  /** Pings the backend; a failure (or no answer in time) is a failure of the connection. */
  async #checkHealth(client: Client): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      await client.ping({ timeout: this.options.requestTimeoutMs });
    } catch (error) {
      if (this.#client === client && this.#state.phase === 'connected') this.#fail(error);
    } finally {
      this.#checking = false;
    }
  }

  #fail(error: unknown): void {
    this.#dispatch({ type: 'failed', reason: describeFailure(error, this.secrets) });
  }

  /** Closes the live client and releases its connection pool. */
  async #dispose(): Promise<void> {
    const client = this.#client;
    const transport = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    await closeQuietly(client, transport);
  }

  /** Rejects when `work` takes longer than `requestTimeoutMs` on the injected clock. */
  #withinTimeout<T>(work: Promise<T>, what: string): Promise<T> {
    const { clock, requestTimeoutMs } = this.options;
    return new Promise<T>((resolve, reject) => {
      const cancel = clock.setTimer(requestTimeoutMs, () =>
        reject(new Error(`${what} took longer than ${requestTimeoutMs} ms`)),
      );
      work.then(
        (value) => {
          cancel();
          resolve(value);
        },
        (error: unknown) => {
          cancel();
          reject(error);
        },
      );
    });
  }
}

/** An attempt that finished after a newer one started (or after close): its client is closed. */
class StaleAttempt extends Error {}

/** Every tool of the backend, following `nextCursor` for at most {@link MAX_TOOL_PAGES} pages. */
async function listAllTools(client: Client, timeout: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const result = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) return tools;
  }
  throw new Error(`tools/list did not end within ${MAX_TOOL_PAGES} pages`);
}

async function closeQuietly(
  client: Client | undefined,
  transport: BackendTransport | undefined,
): Promise<void> {
  await transport?.endSession?.().catch(() => {});
  try {
    await client?.close();
  } catch {
    // Closing a client whose connection is already gone: nothing left to do.
  }
  await transport?.release().catch(() => {});
}
