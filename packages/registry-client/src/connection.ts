/**
 * The client's connection as a small state machine: one pure {@link transition} from a state and
 * what just happened to the next state, so that every rule (backoff, falling back to the
 * long-poll, switching back, giving up) is in one place and tested as a table.
 */

/** How the client follows the sidecar. */
export type Transport = 'events' | 'long-poll';

/** `auto`: the event stream, falling back to the long-poll when the stream cannot be held. */
export type TransportMode = Transport | 'auto';

export type ConnectionPhase =
  /** An attempt is under way: connecting, or a stream waiting for its first heartbeat. */
  | 'connecting'
  /** An event stream is live. */
  | 'streaming'
  /** Long-polls are answering. */
  | 'polling'
  /** Waiting `delayMs` before the next attempt. */
  | 'backingOff'
  /** Stopped for good by an answer that retrying cannot change (401, another 4xx). */
  | 'failed'
  | 'closed';

export interface ConnectionState {
  readonly phase: ConnectionPhase;
  /** The transport of the current or next attempt. */
  readonly transport: Transport;
  /** Failed attempts in a row: the exponent of the backoff. */
  readonly failures: number;
  /** Event streams in a row that answered 200 but could not be held (see `streamNotHeld`). */
  readonly streamFailures: number;
  /** In `backingOff`: how long. */
  readonly delayMs: number;
}

export type ConnectionInput =
  /** A stream delivered its first heartbeat, from a ready sidecar. */
  | { readonly type: 'streamLive' }
  /** A list or long-poll answered (200 or 304). */
  | { readonly type: 'pollAnswered' }
  /**
   * A stream answered 200 but delivered no heartbeat in time, or ended before its first: a
   * proxy that buffers, or one that cuts event streams.
   */
  | { readonly type: 'streamNotHeld' }
  /** A live stream ended, stalled, or something malformed arrived. */
  | { readonly type: 'dropped'; readonly reason: 'ended' | 'stall' | 'malformed' }
  /** No connection, no answer in time, 5xx, 408 or 429 (with the server's Retry-After). */
  | { readonly type: 'unreachable'; readonly retryAfterMs?: number }
  /** The sidecar answers but is not ready (its registry does not reflect the cluster yet). */
  | { readonly type: 'notReady' }
  /** While polling, a probe stream was held: the stream can be used again. */
  | { readonly type: 'streamAvailable' }
  /** The backoff delay passed. */
  | { readonly type: 'retryDue' }
  /** 401 or another 4xx: retrying cannot help. */
  | { readonly type: 'rejected' }
  | { readonly type: 'close' };

/** The numbers {@link transition} works with. */
export interface ConnectionPolicy {
  readonly mode: TransportMode;
  /** Streams not held in a row before falling back to the long-poll. */
  readonly fallbackAfter: number;
  readonly backoff: Backoff;
  /** Longest wait while the sidecar answers but is not ready. */
  readonly notReadyMaxMs: number;
}

/** The state before the first attempt. */
export function initialState(mode: TransportMode): ConnectionState {
  return {
    phase: 'connecting',
    transport: mode === 'long-poll' ? 'long-poll' : 'events',
    failures: 0,
    streamFailures: 0,
    delayMs: 0,
  };
}

/** The next state. Pure: the backoff's randomness is its injected source. */
export function transition(
  state: ConnectionState,
  input: ConnectionInput,
  policy: ConnectionPolicy,
): ConnectionState {
  if (state.phase === 'closed') return state;
  if (input.type === 'close') return { ...state, phase: 'closed', delayMs: 0 };
  if (state.phase === 'failed') return state;
  const backOff = (failures: number, atLeastMs = 0, atMostMs = Number.POSITIVE_INFINITY) => ({
    phase: 'backingOff' as const,
    failures,
    delayMs: Math.min(Math.max(policy.backoff.delay(failures), atLeastMs), atMostMs),
  });
  switch (input.type) {
    case 'rejected':
      return { ...state, phase: 'failed', delayMs: 0 };
    case 'streamLive':
      return { ...state, phase: 'streaming', failures: 0, streamFailures: 0, delayMs: 0 };
    case 'pollAnswered':
      return { ...state, phase: 'polling', failures: 0, delayMs: 0 };
    case 'retryDue':
      return state.phase === 'backingOff' ? { ...state, phase: 'connecting', delayMs: 0 } : state;
    case 'streamAvailable':
      // One more failure sends it back: a stream that is held resets the count.
      return {
        ...state,
        phase: 'connecting',
        transport: 'events',
        streamFailures: Math.max(0, policy.fallbackAfter - 1),
        delayMs: 0,
      };
    case 'streamNotHeld': {
      const streamFailures = state.streamFailures + 1;
      const fallBack = policy.mode === 'auto' && streamFailures >= policy.fallbackAfter;
      return {
        ...state,
        ...backOff(state.failures + 1),
        streamFailures,
        transport: fallBack ? 'long-poll' : state.transport,
      };
    }
    case 'dropped':
    case 'unreachable':
      return {
        ...state,
        ...backOff(state.failures + 1, input.type === 'unreachable' ? input.retryAfterMs : 0),
      };
    case 'notReady':
      return { ...state, ...backOff(state.failures + 1, 0, policy.notReadyMaxMs) };
  }
}

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** The first delay. Default 200 ms. */
  initialMs?: number;
  /** The cap. Default 10 s. */
  maxMs?: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. Default 0.3. */
  jitter?: number;
}

/**
 * Jittered exponential backoff with a cap: `initialMs` doubling per failure up to `maxMs`, each
 * spread by the jitter so that many clients of one restarted sidecar do not reconnect in step.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #jitter: number;
  readonly #random: () => number;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.#initial = options.initialMs ?? 200;
    this.#max = options.maxMs ?? 10_000;
    this.#jitter = options.jitter ?? 0.3;
    this.#random = random;
    if (!(this.#initial > 0) || !(this.#max >= this.#initial)) {
      throw new RangeError('backoff: needs 0 < initialMs <= maxMs');
    }
    if (!(this.#jitter >= 0 && this.#jitter < 1)) {
      throw new RangeError('backoff: jitter must be in [0, 1)');
    }
  }

  /** The delay before attempt number `failures + 1` (`failures` from 1). */
  delay(failures: number): number {
    const exponent = Math.min(Math.max(failures - 1, 0), 30);
    const base = Math.min(this.#initial * 2 ** exponent, this.#max);
    const spread = base * (1 + this.#jitter * (2 * this.#random() - 1));
    return Math.round(Math.min(spread, this.#max));
  }
}
