import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock.js';
import { ItemExponentialFailureRateLimiter } from '../src/ratelimiter.js';
import { WorkQueue } from '../src/workqueue.js';

function queue(clock = new FakeClock()) {
  return {
    clock,
    q: new WorkQueue<string>({
      clock,
      rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000),
    }),
  };
}

describe('WorkQueue', () => {
  it('hands out keys in the order they were added', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('dedupes a key that is already waiting', () => {
    const { q } = queue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
  });

  it('never hands out a key that is processing; re-queues it after done', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    expect(q.len()).toBe(0);
    const controller = new AbortController();
    const pending = q.get(controller.signal);
    q.done(first as string);
    expect(await pending).toBe('a');
  });

  it('wakes a waiting get when a key arrives', async () => {
    const { q } = queue();
    const pending = q.get();
    q.add('x');
    expect(await pending).toBe('x');
  });

  it('resolves a waiting get with undefined when its signal aborts', async () => {
    const { q } = queue();
    const controller = new AbortController();
    const pending = q.get(controller.signal);
    controller.abort();
    expect(await pending).toBeUndefined();
    q.add('a');
    expect(q.len()).toBe(1);
  });

  it('adds after a delay, and the earliest deadline wins', () => {
    const { q, clock } = queue();
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 500);
    clock.advance(49);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    clock.advance(1000);
    expect(q.len()).toBe(1);
  });

  it('backs off per key with addRateLimited until forget', () => {
    const { q, clock } = queue();
    q.addRateLimited('a');
    q.addRateLimited('a'); // pending at 5 ms; the 10 ms request loses to the earlier deadline
    expect(q.numRequeues('a')).toBe(2);
    clock.advance(5);
    expect(q.len()).toBe(1);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('refuses keys after shutdown but hands out what was queued, then undefined', async () => {
    const { q } = queue();
    q.add('a');
    q.shutDown();
    q.add('b');
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBeUndefined();
  });

  it('ends waiting gets on shutdown and cancels delayed adds', async () => {
    const { q, clock } = queue();
    const pending = q.get();
    q.addAfter('late', 10);
    q.shutDown();
    expect(await pending).toBeUndefined();
    clock.advance(100);
    expect(q.len()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('drains: shutDownWithDrain resolves only after keys in flight are done', async () => {
    const { q } = queue();
    q.add('a');
    const key = (await q.get()) as string;
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(key);
    await drain;
    expect(drained).toBe(true);
  });

  it('reports unfinished work and the longest running key', async () => {
    const { q, clock } = queue();
    q.add('a');
    q.add('b');
    await q.get();
    clock.advance(2000);
    await q.get();
    clock.advance(1000);
    expect(q.unfinishedWorkSeconds()).toBeCloseTo(4);
    expect(q.longestRunningProcessorSeconds()).toBeCloseTo(3);
  });

  it('reports adds, depth, latency, work duration and retries to its metrics', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const q = new WorkQueue<string>({
      clock,
      metrics: {
        add: () => seen.push('add'),
        depth: (d) => seen.push(`depth:${d}`),
        queueLatency: (s) => seen.push(`latency:${s}`),
        workDuration: (s) => seen.push(`work:${s}`),
        retry: () => seen.push('retry'),
      },
    });
    q.add('a');
    clock.advance(1000);
    const key = (await q.get()) as string;
    clock.advance(500);
    q.done(key);
    q.addRateLimited('a');
    expect(seen).toEqual(['add', 'depth:1', 'latency:1', 'depth:0', 'work:0.5', 'retry']);
  });
});

describe('WorkQueue against a model', () => {
  type Command =
    | { kind: 'add'; key: string }
    | { kind: 'get' }
    | { kind: 'done'; index: number }
    | { kind: 'addAfter'; key: string; ms: number }
    | { kind: 'tick'; ms: number };
  const key = fc.constantFrom('a', 'b', 'c', 'd');
  const command: fc.Arbitrary<Command> = fc.oneof(
    key.map((k) => ({ kind: 'add' as const, key: k })),
    fc.constant({ kind: 'get' as const }),
    fc.nat(5).map((index) => ({ kind: 'done' as const, index })),
    fc
      .record({ key, ms: fc.integer({ min: 1, max: 50 }) })
      .map((c) => ({ kind: 'addAfter' as const, ...c })),
    fc.integer({ min: 1, max: 60 }).map((ms) => ({ kind: 'tick' as const, ms })),
  );

  it('never hands out a key twice at once, loses none and dedupes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 80 }), async (commands) => {
        const clock = new FakeClock();
        const q = new WorkQueue<string>({ clock });
        const processing = new Set<string>();
        const wanted = new Set<string>(); // keys added and not yet handed out since
        const delayed = new Set<string>();
        for (const c of commands) {
          if (c.kind === 'add') {
            q.add(c.key);
            wanted.add(c.key);
          } else if (c.kind === 'addAfter') {
            q.addAfter(c.key, c.ms);
            delayed.add(c.key);
          } else if (c.kind === 'tick') {
            clock.advance(c.ms);
          } else if (c.kind === 'get') {
            if (q.len() === 0) continue;
            const got = (await q.get()) as string;
            expect(processing.has(got)).toBe(false);
            processing.add(got);
            wanted.delete(got);
          } else {
            const k = [...processing][c.index % Math.max(1, processing.size)];
            if (k === undefined) continue;
            processing.delete(k);
            q.done(k);
          }
          // Every queued key is distinct and none of them is processing.
          const queuedCount = q.len();
          expect(queuedCount).toBeLessThanOrEqual(4);
        }
        // Finish everything in flight, let delays fire, then drain: every wanted key comes out.
        for (const k of processing) q.done(k);
        clock.advance(1000);
        const out = new Set<string>();
        while (q.len() > 0) {
          const got = (await q.get()) as string;
          expect(out.has(got)).toBe(false);
          out.add(got);
          q.done(got);
        }
        for (const k of wanted) expect(out.has(k) || delayed.has(k)).toBe(true);
        for (const k of wanted) if (!delayed.has(k)) expect(out.has(k)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
