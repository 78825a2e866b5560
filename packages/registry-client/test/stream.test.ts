import { PassThrough } from 'node:stream';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { describe, expect, it } from 'vitest';
import type { ConnectionInput } from '../src/connection.js';
import { type RegistryClientOptions, resolveOptions } from '../src/options.js';
import { SidecarReplica } from '../src/replica.js';
import type { Session } from '../src/session.js';
import { MAX_EVENT_CHARS } from '../src/sse.js';
import { idleLimit, readEventStream, STREAM_HELD_MS } from '../src/stream.js';
import { backend } from './support/api.js';
import { recordingLogger } from './support/harness.js';

const heartbeat = (version: number, ready = true) =>
  `event: heartbeat\ndata: {"version":${version},"ready":${ready},"intervalMs":1000}\n\n`;
const snapshot = (version: number) =>
  `event: snapshot\nid: ${version}\ndata: {"version":${version},"backends":[]}\n\n`;
const change = (version: number, id: string) =>
  `event: change\nid: ${version}\ndata: ${JSON.stringify({ version, upserted: [backend(id)], removed: [] })}\n\n`;

/** An event stream read from a PassThrough the test writes to, on a fake clock. */
function open(options: Partial<RegistryClientOptions> = {}) {
  const clock = new FakeClock();
  const logger = recordingLogger();
  const settings = resolveOptions({
    url: 'http://127.0.0.1:9',
    clock,
    logger,
    connectTimeoutMs: 500,
    ...options,
  });
  const reported: ConnectionInput['type'][] = [];
  const stop = new AbortController();
  const replica = new SidecarReplica({ historyLimit: 16, onSynced: () => undefined });
  const session: Session = {
    settings,
    replica,
    stop: stop.signal,
    report: (input) => reported.push(input.type),
  };
  const body = new PassThrough();
  let ended: ConnectionInput | undefined;
  void readEventStream(body, session).then((input) => {
    ended = input;
  });
  const send = async (text: string) => {
    body.write(text);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const settle = async () => {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    return ended;
  };
  return { clock, logger, reported, replica, body, send, settle, stop };
}

describe('readEventStream', () => {
  it('goes live at the first ready heartbeat, holds on its first change, and says so when it ends', async () => {
    const s = open();
    await s.send(heartbeat(1) + snapshot(1));
    expect(s.reported).toEqual(['streamLive']);
    await s.send(change(2, 'a'));
    expect(s.reported).toEqual(['streamLive', 'streamHeld']);
    expect(s.replica.reader.get('a')).toEqual(backend('a'));
    s.body.end();
    expect(await s.settle()).toEqual({ type: 'dropped', reason: 'ended', held: true });
  });

  it('says a stream that ends after its heartbeat, with no change, did not hold', async () => {
    const s = open({ idleTimeoutMs: 3_600_000 });
    await s.send(heartbeat(1) + snapshot(1));
    s.clock.advance(STREAM_HELD_MS - 1);
    await s.send(heartbeat(1));
    s.body.end();
    expect(await s.settle()).toEqual({ type: 'dropped', reason: 'ended', held: false });
    expect(s.reported).toEqual(['streamLive']);
  });

  it('holds once a heartbeat comes STREAM_HELD_MS after it went live', async () => {
    const s = open({ idleTimeoutMs: 3_600_000 });
    await s.send(heartbeat(1) + snapshot(1));
    s.clock.advance(STREAM_HELD_MS);
    expect(s.reported).toEqual(['streamLive']);
    await s.send(heartbeat(1));
    expect(s.reported).toEqual(['streamLive', 'streamHeld']);
  });

  it('counts any bytes as activity, and drops a stream silent for the idle limit', async () => {
    const s = open({ idleTimeoutMs: 1000 });
    await s.send(heartbeat(1) + snapshot(1));
    const event = change(2, 'big');
    for (let at = 0; at < event.length; at += 10) {
      await s.send(event.slice(at, at + 10));
      s.clock.advance(900);
      expect(await s.settle()).toBeUndefined();
    }
    expect(s.replica.reader.get('big')).toEqual(backend('big'));
    s.clock.advance(1000);
    expect(await s.settle()).toEqual({ type: 'dropped', reason: 'stall', held: true });
    expect(s.body.destroyed).toBe(true);
  });

  it('takes the idle limit from the moment it went live, not from the connect timeout', async () => {
    const s = open({ idleTimeoutMs: 200, connectTimeoutMs: 10_000 });
    await s.send(heartbeat(1) + snapshot(1));
    s.clock.advance(200);
    expect(await s.settle()).toEqual({ type: 'dropped', reason: 'stall', held: false });
  });

  it.each([
    [
      'no heartbeat within the connect timeout',
      async (s: ReturnType<typeof open>) => s.clock.advance(500),
    ],
    ['the stream ends before its heartbeat', async (s: ReturnType<typeof open>) => s.body.end()],
  ])('is not held when %s', async (_, act) => {
    const s = open();
    await s.send(': comment\n\n');
    await act(s);
    expect(await s.settle()).toEqual({ type: 'streamNotHeld' });
  });

  it('ends with notReady on a heartbeat of a sidecar that is not ready', async () => {
    const s = open();
    await s.send(heartbeat(1, false));
    expect(await s.settle()).toEqual({ type: 'notReady' });
  });

  it('drops a stream that says something malformed, logging what without the bytes', async () => {
    const s = open();
    await s.send(heartbeat(1) + snapshot(1));
    await s.send(
      'event: change\ndata: {"version":2,"upserted":[{"name":"secret-4b1e"}],"removed":[]}\n\n',
    );
    expect(await s.settle()).toEqual({ type: 'dropped', reason: 'malformed', held: false });
    const warned = JSON.stringify(s.logger.lines);
    expect(warned).toContain('a change with a backend that has no id');
    expect(warned).not.toContain('secret-4b1e');
  });

  it('drops a stream whose event grows past the parser limit instead of throwing from its reader', async () => {
    const s = open();
    await s.send(heartbeat(1) + snapshot(1));
    // 17 pieces of 8 Mi characters of one line that never ends: past MAX_EVENT_CHARS (128 Mi).
    const piece = 'x'.repeat(8 * 1024 * 1024);
    await s.send('event: snapshot\ndata: ');
    for (let i = 0; i < 17; i++) await s.send(piece);
    expect(MAX_EVENT_CHARS).toBe(128 * 1024 * 1024);
    expect(await s.settle()).toEqual({ type: 'dropped', reason: 'malformed', held: false });
    expect(JSON.stringify(s.logger.lines)).toContain('an event of more than 134217728 characters');
  });

  it('refuses a snapshot before the first heartbeat', async () => {
    const s = open();
    await s.send(snapshot(1));
    expect(await s.settle()).toEqual({ type: 'dropped', reason: 'malformed', held: false });
  });

  it('ends with close when the client is closing', async () => {
    const s = open();
    await s.send(heartbeat(1));
    s.stop.abort();
    s.body.end();
    expect(await s.settle()).toEqual({ type: 'close' });
  });
});

describe('idleLimit', () => {
  const timing = resolveOptions({ url: 'http://127.0.0.1:9' }).timing;
  it.each([
    [15_000, 45_000],
    [100, 1000],
    [1e15, 3_600_000],
  ])('with a heartbeat every %s ms, is %s ms', (interval, limit) => {
    expect(idleLimit(timing, interval)).toBe(limit);
  });

  it('is the option when set', () => {
    expect(idleLimit({ ...timing, idleTimeoutMs: 700 }, 15_000)).toBe(700);
  });
});
