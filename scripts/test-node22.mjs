#!/usr/bin/env node
// Runs the tests of the package in the current folder on Node 22.12, the oldest Node the libraries
// support (`engines.node` ">=22.12"; the root's `node22` devDependency, `npm:node@22.12.0`), as a
// tier of `pnpm test` beside the Node 24 one: every tier but the real API server
// (`*.envtest.test.ts`) and the Node 24 sidecar binary (`*.sidecar.test.ts`); see
// vitest.shared.ts. Arguments go to `vitest run`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const node22 = join(root, 'node_modules', 'node22', 'bin', 'node');
const vitest = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');
for (const path of [node22, vitest]) {
  if (!existsSync(path)) {
    console.error(`test-node22: ${path} is missing: run \`npx --yes pnpm@10.34.9 install\``);
    process.exit(1);
  }
}
const child = spawn(node22, [vitest, 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  // Child processes that start `node` by name get Node 22 too.
  env: {
    ...process.env,
    VMCP_TEST_TIER: 'node22',
    PATH: `${dirname(node22)}:${process.env.PATH ?? ''}`,
  },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
