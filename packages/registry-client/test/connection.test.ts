import { describe, expect, it } from 'vitest';
import {
  Backoff,
  type ConnectionInput,
  type ConnectionPolicy,
  type ConnectionState,
  initialState,
  transition,
} from '../src/connection.js';

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
      'a live stream resets both counts',
      state({ failures: 2, streamFailures: 2 }),
      { type: 'streamLive' },
      { phase: 'streaming', failures: 0, streamFailures: 0 },
    ],
    [
      'a drop of a live stream retries after the first delay',
      state({ phase: 'streaming' }),
      { type: 'dropped', reason: 'stall' },
      { phase: 'backingOff', failures: 1, delayMs: 200, transport: 'events' },
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
    ['a 401 fails for good', state({}), { type: 'rejected' }, { phase: 'failed' }],
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
    expect(() => new Backoff({ initialMs: 500, maxMs: 100 })).toThrow(RangeError);
    expect(() => new Backoff({ jitter: 1 })).toThrow(RangeError);
  });
});
