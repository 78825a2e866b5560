import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Backend,
  createDynamicRegistry,
  createRegistryReplica,
  deepEqual,
  type RegistryChange,
  type RegistryOperation,
} from '../src/index.js';
import { backend } from './fixtures.js';

const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const backendArb: fc.Arbitrary<Backend> = fc
  .record({
    id: ids,
    healthStatus: fc.constantFrom('healthy', 'unhealthy', 'unknown' as const),
    port: fc.constantFrom(8080, 9090),
  })
  .map(({ id, healthStatus, port }) =>
    backend(id, { healthStatus, baseUrl: `http://${id}:${port}/mcp` }),
  );
const operationArb: fc.Arbitrary<RegistryOperation> = fc.oneof(
  backendArb.map((b) => ({ op: 'upsert' as const, backend: b })),
  ids.map((id) => ({ op: 'remove' as const, id })),
);
const stepArb = fc.oneof(
  operationArb.map((op) => [op]),
  fc.array(operationArb, { minLength: 0, maxLength: 4 }),
);

describe('dynamic registry against a Map model', () => {
  it('agrees on contents, version steps and the change feed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(backendArb, { maxLength: 3 }),
        fc.array(stepArb),
        async (initial, steps) => {
          const registry = createDynamicRegistry(initial);
          const model = new Map<string, Backend>(initial.map((b) => [b.id, b]));
          let modelVersion = 0;
          const feed = registry.changes();

          for (const step of steps) {
            const before = new Map(model);
            for (const op of step) {
              if (op.op === 'upsert') model.set(op.backend.id, op.backend);
              else model.delete(op.id);
            }
            const contentChanged =
              before.size !== model.size ||
              [...model].some(([id, b]) => !deepEqual(before.get(id), b));
            if (contentChanged) modelVersion++;

            if (step.length === 1 && step[0]?.op === 'upsert') registry.upsert(step[0].backend);
            else if (step.length === 1 && step[0]?.op === 'remove') registry.remove(step[0].id);
            else registry.apply(step);

            expect(registry.version).toBe(modelVersion);
            expect(registry.count()).toBe(model.size);
            expect(registry.list()).toEqual(
              [...model.values()].sort((x, y) => (x.id < y.id ? -1 : 1)),
            );
          }

          // Replaying the feed on the initial content gives the final content, version by version.
          const replay = new Map<string, Backend>(initial.map((b) => [b.id, b]));
          const received: RegistryChange[] = [];
          for (let i = 0; i < modelVersion; i++) {
            const next = await feed.next();
            received.push(next.value as RegistryChange);
          }
          await feed.return?.();
          expect(received.map((c) => c.version)).toEqual(
            Array.from({ length: modelVersion }, (_, i) => i + 1),
          );
          for (const change of received) {
            for (const id of change.removed) replay.delete(id);
            for (const b of change.upserted) replay.set(b.id, b);
          }
          expect(new Map([...replay].sort())).toEqual(new Map([...model].sort()));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('change feed resumption against a model', () => {
  it('replays exactly the retained changes after any version, across runs and restarts', async () => {
    const stepsArb = fc.array(
      fc.oneof({ arbitrary: fc.constant('change'), weight: 150 }, fc.constant('reset')),
      { maxLength: 200, size: 'max' },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 150 }), stepsArb, async (historyLimit, steps) => {
        const replica = createRegistryReplica({ historyLimit, initialVersion: 10 });
        // The changes of the current line of versions, and where that line starts.
        let line: RegistryChange[] = [];
        let lineStart = 10;
        let n = 0;
        for (const step of steps) {
          const upserted = [backend(`b${n++}`)];
          if (step === 'reset') {
            line = [replica.reset(replica.version + 1000, upserted)];
            lineStart = replica.version;
          } else
            line.push(replica.applyChange({ version: replica.version + 1, upserted, removed: [] }));
        }
        const last = replica.version;
        for (let since = lineStart - 2; since <= last + 1; since++) {
          const feed = replica.changes({ sinceVersion: since });
          const resumable = since >= Math.max(lineStart, last - historyLimit) && since <= last;
          const expected = resumable
            ? line.filter((change) => change.version > since)
            : [{ version: last, upserted: replica.list(), removed: [], reset: true }];
          const seen: RegistryChange[] = [];
          for (let i = 0; i < expected.length; i++)
            seen.push((await feed.next()).value as RegistryChange);
          await feed.return?.();
          expect(seen).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
  });
});
