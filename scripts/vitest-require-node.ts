// vitest globalSetup: the test run fails at once on a Node the package does not support (its
// `engines.node`, `>=X.Y`): a library's tests run on Node 22 and 24, the sidecar's on 24 only, and
// a run started outside pnpm on an older system Node fails here instead of somewhere obscure.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether `version` (`24.1.0`) is at least `minimum` (`22.12`). */
export function isAtLeast(version: string, minimum: string): boolean {
  const have = version.split('.').map(Number);
  const want = minimum.split('.').map(Number);
  for (let i = 0; i < want.length; i++) {
    const difference = (have[i] ?? 0) - (want[i] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  return true;
}

export default function requireSupportedNode(): void {
  const manifest = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
    name: string;
    engines?: { node?: string };
  };
  const range = manifest.engines?.node ?? '>=24';
  const minimum = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range)?.[1];
  if (minimum === undefined) throw new Error(`${manifest.name}: engines.node must be ">=X.Y"`);
  if (!isAtLeast(process.versions.node, minimum)) {
    throw new Error(
      `${manifest.name}'s tests must run on Node.js ${range}, found ${process.versions.node}: run them through pnpm`,
    );
  }
}
