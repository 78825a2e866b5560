// Packing a workspace package as `pnpm publish` would (publishConfig applied, `workspace:`
// ranges replaced), for the checks of `pnpm verify` (check-package.mjs, check-consumer.mjs).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

/** Packs the package in `dir` into `destination`; resolves with the tarball's path. */
export async function pack(dir, destination) {
  const { stdout } = await promisify(execFile)(
    'npx',
    ['--yes', 'pnpm@10.34.9', 'pack', '--pack-destination', destination, '--json'],
    { cwd: dir, encoding: 'utf8' },
  );
  return JSON.parse(stdout.slice(stdout.indexOf('{'))).filename;
}

/** The paths of a tarball's files, without npm's `package/` prefix. */
export function tarballFiles(tarball) {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''));
}

/** The text of a file inside a tarball (`README.md`). */
export function tarballFile(tarball, path) {
  return execFileSync('tar', ['-xzOf', tarball, `package/${path}`], { encoding: 'utf8' });
}

/** The package.json inside a tarball. */
export function tarballManifest(tarball) {
  return JSON.parse(tarballFile(tarball, 'package.json'));
}
