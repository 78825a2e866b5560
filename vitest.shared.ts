import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The vitest settings every package shares: resolve workspace packages to their sources (the
 * `@vmcp/source` export condition), refuse to run on Node older than 24, and write a JSON report
 * that `scripts/test-summary.mjs` adds up into the workspace's closing line.
 */
export function sharedConfig(options: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { conditions: ['@vmcp/source'] },
    ssr: { resolve: { conditions: ['@vmcp/source'] } },
    test: {
      include: options.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      globalSetup: [fileURLToPath(new URL('./scripts/vitest-require-node.ts', import.meta.url))],
      testTimeout: options.testTimeout ?? 10_000,
      // Hooks start real servers too (an API server, the sidecar binary): the same ceiling as a
      // test, not vitest's 10 s, which a busy 2-core machine overruns.
      hookTimeout: options.testTimeout ?? 10_000,
      reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
    },
  });
}
