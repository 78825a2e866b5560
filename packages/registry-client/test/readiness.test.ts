import { FakeClock } from '@vmcp/kube-runtime/testing';
import { describe, expect, it } from 'vitest';
import { Readiness } from '../src/readiness.js';

describe('Readiness', () => {
  it('leaves no wait behind when waits time out or abort, however many', async () => {
    const clock = new FakeClock();
    const readiness = new Readiness(clock);
    const waits = Array.from({ length: 100 }, () => readiness.wait({ timeoutMs: 10 }));
    expect(readiness.waiting).toBe(100);
    clock.advance(10);
    expect(await Promise.all(waits)).toEqual(Array(100).fill(false));
    const controller = new AbortController();
    const aborted = readiness.wait({ signal: controller.signal, timeoutMs: 10_000 });
    controller.abort(new Error('stopping'));
    await expect(aborted).rejects.toThrow('stopping');
    expect(readiness.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('resolves every wait and ready on sync, and answers later waits at once', async () => {
    const clock = new FakeClock();
    const readiness = new Readiness(clock);
    const waits = [readiness.wait(), readiness.wait({ timeoutMs: 1000 })];
    readiness.resolve();
    expect(await Promise.all(waits)).toEqual([true, true]);
    await readiness.ready;
    expect(await readiness.wait()).toBe(true);
    expect(readiness.synced).toBe(true);
    expect(readiness.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    // Once synced, a failure changes nothing.
    readiness.reject(new Error('late'));
    expect(await readiness.wait()).toBe(true);
  });

  it('rejects every wait, ready and later waits with the error; the first outcome holds', async () => {
    const readiness = new Readiness(new FakeClock());
    const waiting = readiness.wait();
    readiness.reject(new Error('401'));
    readiness.resolve();
    await expect(waiting).rejects.toThrow('401');
    await expect(readiness.ready).rejects.toThrow('401');
    await expect(readiness.wait()).rejects.toThrow('401');
    expect(readiness.synced).toBe(false);
  });
});
