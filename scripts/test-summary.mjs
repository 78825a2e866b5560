#!/usr/bin/env node
// Adds up the JSON reports that every package's `vitest run` writes (.vitest-report.json, and
// .vitest-report.node22.json for a library's Node 22 tier) and prints one closing line for the
// whole workspace: "tests: N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const group of ['packages', 'apps', 'examples']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    for (const [file, tier] of [
      ['.vitest-report.json', ''],
      ['.vitest-report.node22.json', ' (Node 22)'],
    ]) {
      const report = join(dir, name, file);
      if (!existsSync(report)) continue;
      const data = JSON.parse(readFileSync(report, 'utf8'));
      const p = data.numPassedTests ?? 0;
      const f = data.numFailedTests ?? 0;
      const s = (data.numPendingTests ?? 0) + (data.numTodoTests ?? 0);
      passed += p;
      failed += f;
      skipped += s;
      rows.push(`  ${group}/${name}${tier}: ${p} passed, ${f} failed, ${s} skipped`);
    }
  }
}
console.log(rows.join('\n'));
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
