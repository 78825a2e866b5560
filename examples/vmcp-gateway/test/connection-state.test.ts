import { describe, expect, it } from 'vitest';
import { type ConnectionEvent, type ConnectionState, nextState } from '../src/connection-state.js';

const tools = [{ name: 'echo', inputSchema: { type: 'object' as const } }];
const otherTools = [{ name: 'time', inputSchema: { type: 'object' as const } }];
/** The delay after n failures is n seconds: the table shows which count was used. */
const delay = (failures: number): number => failures * 1000;

const connecting: ConnectionState = { phase: 'connecting', failures: 0 };
const retrying: ConnectionState = { phase: 'connecting', failures: 2, reason: 'refused' };
const connected: ConnectionState = { phase: 'connected', tools };
const failed: ConnectionState = {
  phase: 'failed',
  failures: 2,
  reason: 'refused',
  retryInMs: 2000,
};
const excluded: ConnectionState = { phase: 'excluded', reason: 'token_exchange' };
const closed: ConnectionState = { phase: 'closed' };

const rows: [string, ConnectionState, ConnectionEvent, ConnectionState | 'unchanged'][] = [
  ['connecting, then up', connecting, { type: 'connected', tools }, connected],
  [
    'the first failure waits one step',
    connecting,
    { type: 'failed', reason: 'ECONNREFUSED' },
    { phase: 'failed', failures: 1, reason: 'ECONNREFUSED', retryInMs: 1000 },
  ],
  [
    'a retry that fails again waits longer',
    retrying,
    { type: 'failed', reason: 'still refused' },
    { phase: 'failed', failures: 3, reason: 'still refused', retryInMs: 3000 },
  ],
  ['a retry that succeeds forgets the failures', retrying, { type: 'connected', tools }, connected],
  [
    'tools of a connection not yet up are ignored',
    connecting,
    { type: 'toolsChanged', tools },
    'unchanged',
  ],
  [
    'connected, the backend changed its tools',
    connected,
    { type: 'toolsChanged', tools: otherTools },
    { phase: 'connected', tools: otherTools },
  ],
  [
    'a live connection lost starts over at one failure',
    connected,
    { type: 'failed', reason: 'ping timed out' },
    { phase: 'failed', failures: 1, reason: 'ping timed out', retryInMs: 1000 },
  ],
  ['a retry timer while connected is ignored', connected, { type: 'retryDue' }, 'unchanged'],
  [
    'failed, the retry is due: connecting, keeping the count and the reason',
    failed,
    { type: 'retryDue' },
    { phase: 'connecting', failures: 2, reason: 'refused' },
  ],
  ['failed stays failed on a late failure', failed, { type: 'failed', reason: 'x' }, 'unchanged'],
  ['failed ignores tools', failed, { type: 'toolsChanged', tools }, 'unchanged'],
  ['excluded never connects', excluded, { type: 'retryDue' }, 'unchanged'],
  ['excluded ignores a late success', excluded, { type: 'connected', tools }, 'unchanged'],
  ['close from connecting', connecting, { type: 'close' }, closed],
  ['close from connected', connected, { type: 'close' }, closed],
  ['close from failed', failed, { type: 'close' }, closed],
  ['close from excluded', excluded, { type: 'close' }, closed],
  ['closed stays closed', closed, { type: 'close' }, 'unchanged'],
  ['closed ignores a late success', closed, { type: 'connected', tools }, 'unchanged'],
  ['closed ignores a retry timer', closed, { type: 'retryDue' }, 'unchanged'],
];

describe('nextState', () => {
  it.each(rows)('%s', (_, state, event, expected) => {
    const next = nextState(state, event, delay);
    if (expected === 'unchanged') expect(next).toBe(state);
    else expect(next).toEqual(expected);
  });
});
