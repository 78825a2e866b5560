import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runChaos } from '../src/chaos.js';
import { chaosSettings, formatReport } from '../src/report.js';

let fake: FakeApiServer;
beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths, historyLimit: 200 });
});
afterAll(async () => {
  await fake?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('converges to the oracle after dropped watches, 429/500 bursts, stalls and compactions, and never loses a sentinel meanwhile (two groups)', async () => {
  const { seed, seconds } = chaosSettings(40);
  const report = await runChaos({
    kubeConfig: fake.kubeConfig,
    namespace: 'default',
    groups: ['alpha', 'beta'],
    seed,
    seconds,
    rounds: 4,
    log: (line) => process.stdout.write(`[chaos fake] ${line}\n`),
    faults: [
      { name: 'drop-watches', run: async () => fake.faults.dropWatches() },
      {
        name: '429-burst',
        run: async () => {
          fake.faults.failNext(8, { status: 429, retryAfterSeconds: 1 });
          await sleep(500);
        },
      },
      {
        name: '500-burst',
        run: async () => {
          fake.faults.failNext(8, { status: 500 });
          await sleep(500);
        },
      },
      {
        name: 'stall',
        run: async () => {
          fake.faults.stall(true);
          await sleep(1_000 + Math.random() * 2_500);
          fake.faults.stall(false);
        },
      },
      {
        name: 'compact-and-drop',
        run: async () => {
          fake.faults.compact();
          fake.faults.dropWatches();
        },
      },
    ],
  });
  console.log(formatReport('fake', report));
  expect(report.diffs, formatReport('fake', report)).toEqual([]);
  expect(report.lostOrStale).toBe(0);
  expect(report.emptyVersionSteps).toBe(0);
  // Continuously, not only at convergence: no sentinel missing or different in any sample.
  expect(report.samples).toBeGreaterThan(100);
  expect(report.violations, formatReport('fake', report)).toBe(0);
  expect(report.operations).toBeGreaterThan(100);
});
