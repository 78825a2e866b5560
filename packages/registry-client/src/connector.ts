import { type Clock, sleep } from './clock.js';
import {
  type ConnectionInput,
  type ConnectionState,
  initialState,
  type Transport,
  transition,
} from './connection.js';
import { RegistryClientError } from './errors.js';
import { followByLongPoll } from './long-poll.js';
import type { Settings } from './options.js';
import type { SidecarReplica } from './replica.js';
import { CLOSE, type Session } from './session.js';
import { followByStream } from './stream.js';

const RETRY_DUE: ConnectionInput = Object.freeze({ type: 'retryDue' });

/**
 * Drives the connection: runs the session the state asks for (an event stream, the long-poll,
 * or a backoff wait), feeds what it reports and what ended it to {@link transition}, and says
 * what changed (a retry counted and logged, a switch of transport, a failure). The only place
 * the connection's state is assigned.
 */
export class Connector {
  readonly #settings: Settings;
  readonly #session: Session;
  readonly #onFailed: (error: RegistryClientError) => void;
  readonly #reconnects: Record<string, number> = {};
  #state: ConnectionState;

  constructor(
    settings: Settings,
    replica: SidecarReplica,
    stop: AbortSignal,
    onFailed: (error: RegistryClientError) => void,
  ) {
    this.#settings = settings;
    this.#onFailed = onFailed;
    this.#state = initialState(settings.policy.mode);
    this.#session = { settings, replica, stop, report: (input) => this.#apply(input) };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Attempts that ended in a retry, by reason (a copy). */
  reconnects(): Record<string, number> {
    return { ...this.#reconnects };
  }

  /** Runs until the client closes (its `stop` signal) or fails for good. */
  async run(): Promise<void> {
    const { stop } = this.#session;
    try {
      for (;;) {
        const { phase } = this.#state;
        if (phase === 'closed' || phase === 'failed') return;
        const input = await this.#perform();
        this.#apply(stop.aborted ? CLOSE : input);
      }
    } catch (error) {
      // A bug, not a fault of the sidecar: say so, and stop rather than spin.
      const message = error instanceof Error ? error.message : String(error);
      const { url } = this.#settings;
      const stopped = new RegistryClientError('Rejected', `${url}: client stopped: ${message}`);
      this.#apply({ type: 'rejected', error: stopped });
    }
  }

  #perform(): Promise<ConnectionInput> {
    const { phase, transport, delayMs } = this.#state;
    const { clock, policy } = this.#settings;
    if (phase === 'backingOff') return wait(clock, delayMs, this.#session.stop);
    return transport === 'events'
      ? followByStream(this.#session)
      : followByLongPoll(this.#session, policy.mode === 'auto');
  }

  #apply(input: ConnectionInput): void {
    const before = this.#state;
    const after = transition(before, input, this.#settings.policy);
    this.#state = after;
    if (after.phase === 'backingOff' && before.phase !== 'backingOff') this.#retrying(input);
    if (after.transport !== before.transport) this.#switched(after.transport, input);
    if (after.phase === 'failed' && before.phase !== 'failed' && after.error !== undefined) {
      this.#settings.logger?.error(
        { url: this.#settings.url, reason: after.error.reason },
        after.error.message,
      );
      this.#onFailed(after.error);
    }
  }

  #retrying(input: ConnectionInput): void {
    const reason = reasonOf(input);
    this.#reconnects[reason] = (this.#reconnects[reason] ?? 0) + 1;
    const { delayMs, transport } = this.#state;
    this.#settings.logger?.debug(
      { url: this.#settings.url, reason, delayMs, transport },
      'registry client retrying',
    );
  }

  #switched(transport: Transport, input: ConnectionInput): void {
    const fields = { url: this.#settings.url, transport };
    const message =
      transport === 'events'
        ? 'event stream held again; following the registry by stream'
        : input.type === 'streamRefused'
          ? `event streams refused (${input.error.status}); following the registry by long-poll`
          : 'event stream cannot be held; following the registry by long-poll';
    this.#settings.logger?.info(fields, message);
  }
}

/** `retryDue` after `ms`, or `close` at once when the client closes. */
async function wait(clock: Clock, ms: number, stop: AbortSignal): Promise<ConnectionInput> {
  return (await sleep(clock, ms, stop)) ? RETRY_DUE : CLOSE;
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
