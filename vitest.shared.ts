import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The workspace's hook and test timeouts, derived from start times measured on the 2-core
 * development machine (the size of CI's), first while other engineers' full test runs shared it
 * (load average 4 to 14), then with two CPU-bound busy loops added:
 *
 * | what                                      | beside other runs | + two busy loops |
 * | ----------------------------------------- | ----------------- | ---------------- |
 * | envtest `startEnv()` (etcd, API server, CRDs) | 12 to 31 s    | 31 to 39 s       |
 * | envtest `env.restart()`                   | 6 to 19 s         | 18 to 21 s       |
 * | the built sidecar logging `serving`, ready | 0.5 to 1.5 s     | up to 6.6, 9.7 s |
 * | the fake API server (its `openssl` run)   | 0.3 to 1.5 s      | up to 3.7 s      |
 * | `pnpm deploy --prod` of the sidecar       | 6 to 12 s         |                  |
 *
 * Code that waits for a process waits on its readiness, with a ceiling of four to six times the
 * slowest measurement: `startEnv`'s `timeoutMs` (180 s, also for `restart`), the app tests'
 * `SIDECAR_READY_TIMEOUT_MS` (60 s), `eventually`'s 30 s for a condition. The timeouts below sit
 * above those ceilings, so that a start that hangs fails with the waiting code's own error (which
 * names the step and carries the logs), not with vitest's. A passing run never comes near them.
 */
export const TIMEOUTS = {
  /** A `beforeAll`/`afterAll`: a `startEnv` (ceiling 180 s) and the setup around it. */
  hookMs: 240_000,
  /** A test of in-process code: above `eventually`'s and `expect.poll`'s 30 s ceiling. */
  testMs: 60_000,
  /** A test on a real API server, which may restart it (ceiling 180 s) and then wait. */
  realServerTestMs: 300_000,
} as const;

/**
 * Whether this run is a library's Node 22 tier (`test:node22`, started by scripts/test-node22.mjs
 * on Node 22.12): every tier but those of the real API server (`*.envtest.test.ts`, run on Node
 * 24 only: they test the server, not the Node) and of the Node 24 sidecar binary
 * (`*.sidecar.test.ts`), reported in a file of its own.
 */
const NODE22_TIER = process.env.VMCP_TEST_TIER === 'node22';

/**
 * The vitest settings every package shares: resolve workspace packages to their sources (the
 * `@vmcp/source` export condition), refuse to run on a Node the package does not support (its
 * `engines`), {@link TIMEOUTS}, and write a JSON report that `scripts/test-summary.mjs` adds up
 * into the workspace's closing line.
 */
export function sharedConfig(options: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { conditions: ['@vmcp/source'] },
    ssr: { resolve: { conditions: ['@vmcp/source'] } },
    test: {
      include: options.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: NODE22_TIER
        ? [...configDefaults.exclude, '**/*.envtest.test.ts', '**/*.sidecar.test.ts']
        : configDefaults.exclude,
      globalSetup: [fileURLToPath(new URL('./scripts/vitest-require-node.ts', import.meta.url))],
      testTimeout: options.testTimeout ?? TIMEOUTS.testMs,
      // Hooks start real servers too: never less than a test of the package gets.
      hookTimeout: Math.max(TIMEOUTS.hookMs, options.testTimeout ?? 0),
      // vitest's default of 1 s is not a ceiling a busy machine can promise; 30 s, as `eventually`.
      expect: { poll: { timeout: 30_000 } },
      reporters: [
        'default',
        [
          'json',
          { outputFile: NODE22_TIER ? '.vitest-report.node22.json' : '.vitest-report.json' },
        ],
      ],
    },
  });
}
