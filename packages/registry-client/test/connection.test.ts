import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/backoff.js';
import {
  type ConnectionInput,
  type ConnectionPolicy,
  type ConnectionState,
  initialState,
  transition,
} from '../src/connection.js';
import { RegistryClientError } from '../src/errors.js';

const UNAUTHORIZED = new RegistryClientError('Unauthorized', 'answered 401', 401);
const NOT_FOUND = new RegistryClientError('Rejected', 'answered 404', 404);

// No jitter (random 0.5): delays are 200, 400, 800, ... up to 10 s.
const policy: ConnectionPolicy = {
  mode: 'auto',
  fallbackAfter: 3,
  backoff: new Backoff({}, () => 0.5),
  notReadyMaxMs: 1000,
};

const state = (overrides: Partial<ConnectionState>): ConnectionState => ({
  ...initialState('auto'),
  ...overrides,
});

describe('transition', () => {
  const rows: [string, ConnectionState, ConnectionInput, Partial<ConnectionState>][] = [
    [
      'a live stream is streaming, but resets nothing until it holds',
      state({ failures: 2, streamFailures: 2 }),
      { type: 'streamLive' },
      { phase: 'streaming', failures: 2, streamFailures: 2 },
    ],
    [
      'a stream that held resets both counts',
      state({ phase: 'streaming', failures: 2, streamFailures: 2 }),
      { type: 'streamHeld' },
      { phase: 'streaming', failures: 0, streamFailures: 0 },
    ],
    [
      'a drop of a held stream retries after the first delay',
      state({ phase: 'streaming' }),
      { type: 'dropped', reason: 'stall', held: true },
      { phase: 'backingOff', failures: 1, streamFailures: 0, delayMs: 200, transport: 'events' },
    ],
    [
      'a stream that dies after its first heartbeat backs off further and counts as not held',
      state({ phase: 'streaming', failures: 1, streamFailures: 1 }),
      { type: 'dropped', reason: 'ended', held: false },
      { phase: 'backingOff', failures: 2, streamFailures: 2, delayMs: 400, transport: 'events' },
    ],
    [
      'the third stream in a row that dies before it holds falls back to the long-poll',
      state({ phase: 'streaming', failures: 2, streamFailures: 2 }),
      { type: 'dropped', reason: 'ended', held: false },
      { phase: 'backingOff', streamFailures: 3, transport: 'long-poll' },
    ],
    [
      'a malformed long-poll answer backs off without touching the stream count',
      state({ phase: 'polling', transport: 'long-poll', streamFailures: 3 }),
      { type: 'dropped', reason: 'malformed' },
      { phase: 'backingOff', failures: 1, streamFailures: 3, transport: 'long-poll' },
    ],
    [
      'failures double the delay',
      state({ failures: 3 }),
      { type: 'unreachable' },
      { phase: 'backingOff', failures: 4, delayMs: 1600 },
    ],
    [
      'the delay is capped',
      state({ failures: 20 }),
      { type: 'unreachable' },
      { phase: 'backingOff', delayMs: 10_000 },
    ],
    [
      "a server's Retry-After wins when longer",
      state({}),
      { type: 'unreachable', retryAfterMs: 5000 },
      { phase: 'backingOff', delayMs: 5000 },
    ],
    [
      "a Retry-After is honoured only up to the backoff's cap",
      state({}),
      { type: 'unreachable', retryAfterMs: 3_600_000 },
      { phase: 'backingOff', delayMs: 10_000 },
    ],
    [
      'event streams refused (404, 405) in auto mode: the long-poll at once',
      state({ streamFailures: 1 }),
      { type: 'streamRefused', error: NOT_FOUND },
      { phase: 'connecting', transport: 'long-poll', streamFailures: 3, delayMs: 0 },
    ],
    [
      'a sidecar that is not ready is asked again within a second',
      state({ failures: 9 }),
      { type: 'notReady' },
      { phase: 'backingOff', delayMs: 1000 },
    ],
    [
      'a stream not held counts toward the fallback',
      state({ streamFailures: 1 }),
      { type: 'streamNotHeld' },
      { phase: 'backingOff', streamFailures: 2, transport: 'events' },
    ],
    [
      'the third stream not held in a row falls back to the long-poll',
      state({ streamFailures: 2 }),
      { type: 'streamNotHeld' },
      { phase: 'backingOff', streamFailures: 3, transport: 'long-poll' },
    ],
    [
      'a long-poll answer keeps the stream count',
      state({ transport: 'long-poll', streamFailures: 3, failures: 1 }),
      { type: 'pollAnswered' },
      { phase: 'polling', failures: 0, streamFailures: 3 },
    ],
    [
      'a held probe switches back, one failure away from falling back again',
      state({ phase: 'polling', transport: 'long-poll', streamFailures: 3 }),
      { type: 'streamAvailable' },
      { phase: 'connecting', transport: 'events', streamFailures: 2 },
    ],
    [
      'the delay passed: the next attempt',
      state({ phase: 'backingOff', delayMs: 400 }),
      { type: 'retryDue' },
      { phase: 'connecting', delayMs: 0 },
    ],
    [
      'a 401 fails for good',
      state({}),
      { type: 'rejected', error: UNAUTHORIZED },
      { phase: 'failed', error: UNAUTHORIZED },
    ],
    [
      'nothing leaves failed but close',
      state({ phase: 'failed' }),
      { type: 'streamLive' },
      { phase: 'failed' },
    ],
    ['close from anywhere', state({ phase: 'failed' }), { type: 'close' }, { phase: 'closed' }],
    [
      'nothing leaves closed',
      state({ phase: 'closed' }),
      { type: 'retryDue' },
      { phase: 'closed' },
    ],
  ];

  it.each(rows)('%s', (_, from, input, expected) => {
    expect(transition(from, input, policy)).toMatchObject(expected);
  });

  it('never falls back when the transport is events only, nor streams when long-poll only', () => {
    const events = { ...policy, mode: 'events' as const };
    expect(
      transition(state({ streamFailures: 9 }), { type: 'streamNotHeld' }, events).transport,
    ).toBe('events');
    const dropped = { type: 'dropped', reason: 'ended', held: false } as const;
    expect(transition(state({ streamFailures: 9 }), dropped, events).transport).toBe('events');
    expect(
      transition(state({}), { type: 'streamRefused', error: NOT_FOUND }, events),
    ).toMatchObject({ phase: 'failed', transport: 'events', error: NOT_FOUND });
    expect(initialState('long-poll').transport).toBe('long-poll');
  });
});

describe('Backoff', () => {
  it('spreads each delay within the jitter and never above the cap', () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 4000, jitter: 0.3 }, () => 0);
    const high = new Backoff({ initialMs: 1000, maxMs: 4000, jitter: 0.3 }, () => 0.999_999);
    expect(low.delay(1)).toBe(700);
    expect(high.delay(1)).toBe(1300);
    expect(high.delay(3)).toBe(4000);
    expect(high.delay(50)).toBe(4000);
  });

  it('refuses settings that make no sense', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 500, maxMs: 100 })).toThrow(
      'connectRegistry: backoff.maxMs 100 is below the minimum of 500 (500ms)',
    );
    expect(() => new Backoff({ jitter: 1 })).toThrow(RangeError);
  });

  it('says its cap, which also bounds a Retry-After', () => {
    expect(new Backoff({}).maxMs).toBe(10_000);
    expect(new Backoff({ initialMs: 50, maxMs: 300 }).maxMs).toBe(300);
  });
});
