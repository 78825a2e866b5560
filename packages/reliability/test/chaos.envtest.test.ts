import { type Env, startEnv } from '@vmcp/envtest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runChaos } from '../src/chaos.js';
import { chaosSettings, formatReport } from '../src/report.js';

let env: Env;
beforeAll(async () => {
  // Without the watch cache, a compaction makes every older watch fail with 410 at once.
  env = await startEnv({ watchCache: false });
});
afterAll(async () => {
  await env?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('converges to the oracle after random mutations, pauses, restarts, kills and compactions, and never loses a sentinel meanwhile (two groups)', async () => {
  const { seed, seconds } = chaosSettings(60);
  const report = await runChaos({
    kubeConfig: env.kubeConfig,
    namespace: 'default',
    groups: ['alpha', 'beta'],
    seed,
    seconds,
    rounds: 4,
    log: (line) => process.stdout.write(`[chaos envtest] ${line}\n`),
    faults: [
      {
        name: 'pause',
        run: async () => {
          env.pause();
          await sleep(1_000 + Math.random() * 2_000);
          env.resume();
        },
      },
      {
        name: 'restart',
        run: async () => {
          await env.restart();
        },
      },
      {
        name: 'down',
        run: async () => {
          // Killed for a few seconds: its port refuses connections, resyncs' reads fail.
          await env.restart({ downMs: 1_000 + Math.random() * 3_000 });
        },
      },
      {
        name: 'compact',
        run: async () => {
          await env.compact();
        },
      },
    ],
  });
  console.log(formatReport('envtest', report));
  expect(report.diffs, formatReport('envtest', report)).toEqual([]);
  expect(report.lostOrStale).toBe(0);
  expect(report.emptyVersionSteps).toBe(0);
  // Continuously, not only at convergence: no sentinel missing or different in any sample.
  expect(report.samples).toBeGreaterThan(100);
  expect(report.violations, formatReport('envtest', report)).toBe(0);
  expect(report.operations).toBeGreaterThan(100);
  expect(Object.keys(report.faults).length).toBeGreaterThan(0);
});
