import { EventEmitter } from 'node:events';
import { silentLogger } from '@vmcp/kube-runtime';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { Counter, Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventWriter } from '../src/http/event-writer.js';
import { LastResort } from '../src/http/last-resort.js';

/** A client's socket as the writer sees it: full while `full`, drained on demand. */
class FakeSink extends EventEmitter {
  full = false;
  destroyed = false;
  written: string[] = [];

  get writableLength(): number {
    return this.full ? this.written.join('').length : 0;
  }

  write(chunk: Buffer | string): boolean {
    this.written.push(String(chunk));
    return !this.full;
  }

  drain(): void {
    this.full = false;
    this.emit('drain');
  }

  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const TIMEOUT = 30_000;
let clock: FakeClock;
let sink: FakeSink;
let dropped: number[];
let writer: EventWriter;

beforeEach(() => {
  clock = new FakeClock();
  sink = new FakeSink();
  dropped = [];
  const errors = new Counter({
    name: 'errors',
    help: 'x',
    labelNames: ['source'],
    registers: [new Registry()],
  });
  writer = new EventWriter(sink, {
    clock,
    slowClientTimeoutMs: TIMEOUT,
    onSlowClient: (unread) => dropped.push(unread),
    lastResort: new LastResort(errors, silentLogger),
  });
});

describe('EventWriter', () => {
  it('drops a client that has not drained within the timeout, though nothing else is written', () => {
    sink.full = true;
    expect(writer.write(['event: snapshot\n', 'data: {}\n\n'])).toBe(false);
    expect(writer.backedUp).toBe(true);
    clock.advance(TIMEOUT - 1);
    expect(sink.destroyed).toBe(false);
    clock.advance(1);
    expect(sink.destroyed).toBe(true);
    expect(writer.closed).toBe(true);
    expect(dropped).toEqual([26]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps a client that drains in time, and times it afresh when it falls behind again', () => {
    sink.full = true;
    writer.write(['a']);
    clock.advance(TIMEOUT - 1);
    sink.drain();
    expect(writer.backedUp).toBe(false);
    clock.advance(TIMEOUT);
    expect(sink.destroyed).toBe(false);
    sink.full = true;
    writer.write(['b']);
    clock.advance(TIMEOUT);
    expect(sink.destroyed).toBe(true);
  });

  it('skips heartbeats while backed up instead of queueing them, and resumes after a drain', () => {
    writer.heartbeats(1000, () => 'hb');
    clock.advance(1000);
    expect(sink.written).toEqual(['hb']);
    sink.full = true;
    writer.write(['big event']);
    clock.advance(10_000);
    expect(sink.written).toEqual(['hb', 'big event']);
    sink.drain();
    clock.advance(1000);
    expect(sink.written).toEqual(['hb', 'big event', 'hb']);
  });

  it('makes the next change wait for the drain, and tells it when the stream closed', async () => {
    expect(await writer.ready()).toBe(true);
    sink.full = true;
    writer.write(['a']);
    const waiting = writer.ready();
    sink.drain();
    expect(await waiting).toBe(true);
    sink.full = true;
    writer.write(['b']);
    const closing = writer.ready();
    sink.destroy();
    expect(await closing).toBe(false);
    expect(writer.write(['c'])).toBe(false);
    expect(sink.written).toEqual(['a', 'b']);
  });

  it('leaves no timer behind once closed', () => {
    writer.heartbeats(1000, () => 'hb');
    sink.full = true;
    writer.write(['a']);
    expect(clock.pendingTimers).toBe(2);
    writer.close();
    expect(clock.pendingTimers).toBe(0);
    expect(sink.listenerCount('drain') + sink.listenerCount('close')).toBe(0);
  });
});
