/**
 * The client's connection as a small state machine: one pure {@link transition} from a state and
 * what just happened to the next state, so that every rule (backoff and its reset, falling back
 * to the long-poll, switching back, giving up) is in one place and tested as a table. The
 * transport sessions (`stream.ts`, `long-poll.ts`) report the inputs; `connector.ts` drives.
 */
import type { Backoff } from './backoff.js';
import type { RegistryClientError } from './errors.js';

/** How the client follows the sidecar. */
export type Transport = 'events' | 'long-poll';

/** `auto`: the event stream, falling back to the long-poll when the stream cannot be held. */
export type TransportMode = Transport | 'auto';

/** Where the connection is: `status().phase`, and the `state` label of the metrics. */
export type ConnectionPhase =
  /** An attempt is under way: connecting, or a stream waiting for its first heartbeat. */
  | 'connecting'
  /** An event stream is live. */
  | 'streaming'
  /** Long-polls are answering. */
  | 'polling'
  /** Waiting `delayMs` before the next attempt. */
  | 'backingOff'
  /** Stopped for good by an answer that retrying cannot change (401, 403, another 4xx). */
  | 'failed'
  | 'closed';

/** The connection's state: what {@link transition} reads and returns. */
export interface ConnectionState {
  readonly phase: ConnectionPhase;
  /** The transport of the current or next attempt. */
  readonly transport: Transport;
  /** Failed attempts since the last held stream or answered poll: the backoff's exponent. */
  readonly failures: number;
  /** Event streams in a row that could not be held (see `streamNotHeld` and `dropped`). */
  readonly streamFailures: number;
  /** In `backingOff`: how long. */
  readonly delayMs: number;
  /** In `failed`: why. */
  readonly error?: RegistryClientError;
}

/** What happened: reported by a transport session, or what ended it. */
export type ConnectionInput =
  /** A stream delivered its first heartbeat, from a ready sidecar. */
  | { readonly type: 'streamLive' }
  /**
   * A live stream held: it stayed live for `STREAM_HELD_MS`, or applied a change. Only now are
   * the backoff and the count of streams not held reset: a stream that dies after its first
   * heartbeat is a failure like one that never delivered it.
   */
  | { readonly type: 'streamHeld' }
  /** A list or long-poll answered (200 or 304). */
  | { readonly type: 'pollAnswered' }
  /**
   * A stream answered 200 but delivered no heartbeat in time, or ended before its first: a
   * proxy that buffers, or one that cuts event streams.
   */
  | { readonly type: 'streamNotHeld' }
  /**
   * A live stream ended, stalled, or something malformed arrived (in a stream or a long-poll
   * answer). `held: false`: a stream that was live but had not held, which counts toward the
   * fallback as a stream not held does.
   */
  | {
      readonly type: 'dropped';
      readonly reason: 'ended' | 'stall' | 'malformed';
      readonly held?: boolean;
    }
  /**
   * `/v1/events` refused with a 4xx other than 401, 403, 408 and 429 (a proxy that does not
   * route it, an older server): in `auto` mode the long-poll at once, else `error` for good.
   */
  | { readonly type: 'streamRefused'; readonly error: RegistryClientError }
  /** No connection, no answer in time, 5xx, 408 or 429 (with the server's Retry-After). */
  | { readonly type: 'unreachable'; readonly retryAfterMs?: number }
  /** The sidecar answers but is not ready (its registry does not reflect the cluster yet). */
  | { readonly type: 'notReady' }
  /** While polling, a probe stream was held: the stream can be used again. */
  | { readonly type: 'streamAvailable' }
  /** The backoff delay passed. */
  | { readonly type: 'retryDue' }
  /** 401, 403, or another 4xx of the long-poll: retrying cannot help. */
  | { readonly type: 'rejected'; readonly error: RegistryClientError }
  | { readonly type: 'close' };

/** The numbers {@link transition} works with. */
export interface ConnectionPolicy {
  readonly mode: TransportMode;
  /** Streams not held in a row before falling back to the long-poll. */
  readonly fallbackAfter: number;
  /** Reconnect delays; its `maxMs` also caps a server's Retry-After. */
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

type Rule<T extends ConnectionInput['type']> = (
  state: ConnectionState,
  input: Extract<ConnectionInput, { type: T }>,
  policy: ConnectionPolicy,
) => ConnectionState;

/** The next state for each input, once `closed` and `failed` have had their say. */
const RULES: { [T in ConnectionInput['type']]: Rule<T> } = {
  close: (state) => ({ ...state, phase: 'closed', delayMs: 0 }),
  rejected: (state, input) => ({ ...state, phase: 'failed', delayMs: 0, error: input.error }),
  streamLive: (state) => ({ ...state, phase: 'streaming', delayMs: 0 }),
  streamHeld: (state) =>
    state.phase === 'streaming' ? { ...state, failures: 0, streamFailures: 0 } : state,
  pollAnswered: (state) => ({ ...state, phase: 'polling', failures: 0, delayMs: 0 }),
  retryDue: (state) =>
    state.phase === 'backingOff' ? { ...state, phase: 'connecting', delayMs: 0 } : state,
  // One more failure sends it back: only a stream that holds resets the count.
  streamAvailable: (state, _, policy) => ({
    ...state,
    phase: 'connecting',
    transport: 'events',
    streamFailures: Math.max(0, policy.fallbackAfter - 1),
    delayMs: 0,
  }),
  streamNotHeld: (state, _, policy) => streamFailed(state, policy),
  dropped: (state, input, policy) =>
    input.held === false
      ? streamFailed(state, policy)
      : { ...state, ...backOff(state, policy, 0, Number.POSITIVE_INFINITY) },
  streamRefused: (state, input, policy) =>
    policy.mode === 'auto'
      ? {
          ...state,
          phase: 'connecting',
          transport: 'long-poll',
          streamFailures: Math.max(state.streamFailures, policy.fallbackAfter),
          delayMs: 0,
        }
      : { ...state, phase: 'failed', delayMs: 0, error: input.error },
  // A Retry-After is honoured up to the backoff's cap: one answer never freezes the client.
  unreachable: (state, input, policy) => ({
    ...state,
    ...backOff(state, policy, Math.min(input.retryAfterMs ?? 0, policy.backoff.maxMs)),
  }),
  notReady: (state, _, policy) => ({
    ...state,
    ...backOff(state, policy, 0, policy.notReadyMaxMs),
  }),
};

/** The next state. Pure: the backoff's randomness is its injected source. */
export function transition(
  state: ConnectionState,
  input: ConnectionInput,
  policy: ConnectionPolicy,
): ConnectionState {
  if (state.phase === 'closed') return state;
  if (state.phase === 'failed' && input.type !== 'close') return state;
  return (RULES[input.type] as Rule<typeof input.type>)(state, input, policy);
}

/** One more failed attempt: back off, `atLeastMs` (a Retry-After) to `atMostMs`. */
function backOff(
  state: ConnectionState,
  policy: ConnectionPolicy,
  atLeastMs: number,
  atMostMs = Number.POSITIVE_INFINITY,
): Pick<ConnectionState, 'phase' | 'failures' | 'delayMs'> {
  const failures = state.failures + 1;
  const delayMs = Math.min(Math.max(policy.backoff.delay(failures), atLeastMs), atMostMs);
  return { phase: 'backingOff', failures, delayMs };
}

/** A stream that could not be held: back off, and in `auto` mode fall back after enough. */
function streamFailed(state: ConnectionState, policy: ConnectionPolicy): ConnectionState {
  const streamFailures = state.streamFailures + 1;
  const fallBack = policy.mode === 'auto' && streamFailures >= policy.fallbackAfter;
  return {
    ...state,
    ...backOff(state, policy, 0),
    streamFailures,
    transport: fallBack ? 'long-poll' : state.transport,
  };
}
