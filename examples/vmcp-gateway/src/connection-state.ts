/**
 * The life of one backend connection as a state machine: one function from a state and an event
 * to the next state, with no I/O, so that every transition is a row of a table test.
 *
 * ```
 *   connecting ──connected──▶ connected ──toolsChanged──▶ connected
 *       ▲  │                      │
 *  retryDue│failed                │failed (a ping or a request failed, the connection closed)
 *       │  ▼                      ▼
 *      failed ◀───────────────────┘          excluded (never connects)   any ──close──▶ closed
 * ```
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

/** Where a backend connection stands. Only `connected` backends are in the catalog. */
export type ConnectionState =
  /** An attempt is in flight. `failures` in a row so far; `reason`, the last one's. */
  | { readonly phase: 'connecting'; readonly failures: number; readonly reason?: string }
  /** Initialized; `tools` as the backend listed them (original names). */
  | { readonly phase: 'connected'; readonly tools: readonly Tool[] }
  /** The last attempt (or a live connection) failed; the next attempt is due in `retryInMs`. */
  | {
      readonly phase: 'failed';
      readonly failures: number;
      readonly reason: string;
      readonly retryInMs: number;
    }
  /** Not connected, ever, for a reason retrying cannot fix (an auth strategy not implemented). */
  | { readonly phase: 'excluded'; readonly reason: string }
  /** Closed: the backend left the registry, or changed and has a new connection. */
  | { readonly phase: 'closed' };

/** What happens to a connection. */
export type ConnectionEvent =
  | { readonly type: 'connected'; readonly tools: readonly Tool[] }
  | { readonly type: 'toolsChanged'; readonly tools: readonly Tool[] }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 'retryDue' }
  | { readonly type: 'close' };

/** The phases a connection reports, in `/status` order. */
export type ConnectionPhase = ConnectionState['phase'];

/**
 * The next state. An event that does not apply to a state (a `retryDue` while connected, tools
 * of a connection that is not up) leaves it unchanged: the same object is returned, so a caller
 * can tell "nothing happened" by identity. `retryDelayMs(failures)` gives the wait after that
 * many failures in a row.
 */
export function nextState(
  state: ConnectionState,
  event: ConnectionEvent,
  retryDelayMs: (failures: number) => number,
): ConnectionState {
  if (event.type === 'close') return state.phase === 'closed' ? state : { phase: 'closed' };
  switch (state.phase) {
    case 'connecting':
      if (event.type === 'connected') return { phase: 'connected', tools: event.tools };
      if (event.type === 'failed') return failed(state.failures + 1, event.reason, retryDelayMs);
      return state;
    case 'connected':
      if (event.type === 'toolsChanged') return { phase: 'connected', tools: event.tools };
      if (event.type === 'failed') return failed(1, event.reason, retryDelayMs);
      return state;
    case 'failed':
      if (event.type === 'retryDue') {
        return { phase: 'connecting', failures: state.failures, reason: state.reason };
      }
      return state;
    default:
      return state;
  }
}

function failed(
  failures: number,
  reason: string,
  retryDelayMs: (failures: number) => number,
): ConnectionState {
  return { phase: 'failed', failures, reason, retryInMs: retryDelayMs(failures) };
}
