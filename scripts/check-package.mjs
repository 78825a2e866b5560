#!/usr/bin/env node
// Lints what `pnpm publish` would publish of the package in the current folder (its
// `check:package` script, run by `pnpm verify`): the tarball pnpm packs, not the folder.
// - Every path its package.json points at (exports, main, types, bin) is in the tarball, and no
//   export condition is the workspace's own (`@vmcp/source` points at src/, which is not
//   shipped: the workspace's exports keep it for its tests and typecheck, publishConfig.exports
//   leaves it out).
// - repository (with its folder), homepage, bugs and engines are set.
// - The README, as npm's page shows it: right after its title, an install line naming the
//   package and every required peer; every link absolute (a relative one breaks there).
// - publint --strict, and arethetypeswrong with the node16 profile (import and require, not
//   esm-only) less its rule `cjs-resolves-to-esm`: attw's TypeScript (5.6) predates require() of
//   ES modules, which Node 22.12+ does and TypeScript 5.8+ types under `nodenext`, and which
//   scripts/check-consumer.mjs proves with a typechecked CommonJS program that runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack, tarballFile, tarballFiles, tarballManifest } from './pack.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** Every file path a manifest points at, with where it says so. */
function pointedAt(manifest) {
  const paths = [];
  const walk = (value, where) => {
    if (typeof value === 'string') paths.push([value, where]);
    else if (value && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) walk(inner, `${where}["${key}"]`);
  };
  walk(manifest.exports, 'exports');
  walk(manifest.bin, 'bin');
  for (const field of ['main', 'types']) walk(manifest[field], field);
  return paths;
}

/** The export conditions anywhere in an exports map. */
function conditions(exports) {
  if (!exports || typeof exports !== 'object') return [];
  return Object.entries(exports).flatMap(([key, value]) => [
    ...(key.startsWith('.') ? [] : [key]),
    ...conditions(value),
  ]);
}

/** What is wrong with a packed manifest and its files, as sentences. */
export function manifestProblems(manifest, files, folder) {
  const problems = [];
  const shipped = new Set(files);
  for (const [path, where] of pointedAt(manifest)) {
    if (!shipped.has(path.replace(/^\.\//, '')))
      problems.push(`${where} points at ${path}, which the tarball does not hold`);
  }
  for (const condition of conditions(manifest.exports)) {
    if (condition.startsWith('@vmcp/'))
      problems.push(`exports has the workspace's own condition "${condition}"`);
  }
  if (manifest.repository?.directory !== folder)
    problems.push(`repository.directory is ${manifest.repository?.directory}, not ${folder}`);
  if (!/^git\+https:\/\//.test(manifest.repository?.url ?? ''))
    problems.push('repository.url is not a git+https URL');
  if (!manifest.homepage?.startsWith('https://')) problems.push('homepage is not set');
  if (!manifest.bugs?.url?.startsWith('https://')) problems.push('bugs.url is not set');
  if (!/^>=\d+/.test(manifest.engines?.node ?? '')) problems.push('engines.node is not set');
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|link|file):/.test(range))
        problems.push(`${field}.${name} is "${range}" in the tarball`);
    }
  }
  return problems;
}

/** What is wrong with a packed README, as sentences. */
export function readmeProblems(readme, manifest) {
  const problems = [];
  const first = /^# [^\n]+\n+```sh\n([\s\S]*?)```/.exec(readme);
  const install = first?.[1] ?? '';
  const optional = manifest.peerDependenciesMeta ?? {};
  const needed = [
    manifest.name,
    ...Object.keys(manifest.peerDependencies ?? {}).filter((name) => !optional[name]?.optional),
  ];
  if (!/^npm install /m.test(install))
    problems.push('README: no `npm install` block right after the title');
  for (const name of needed) {
    if (!new RegExp(`^npm install .*(?<=\\s)${name.replace('/', '\\/')}(\\s|$)`, 'm').test(install))
      problems.push(`README: the install line does not name ${name}`);
  }
  for (const [, target] of readme.matchAll(/\]\(([^)\s]+)[^)]*\)/g)) {
    if (!/^(https:|#|mailto:)/.test(target))
      problems.push(`README: the link ${target} is relative (it breaks on the registry's page)`);
  }
  return problems;
}

function run(command, args) {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    return undefined;
  } catch (error) {
    return `${[command, ...args].join(' ')} failed:\n${error.stdout}${error.stderr}`;
  }
}

const dir = process.cwd();
const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const destination = mkdtempSync(join(tmpdir(), 'vmcp-pack-'));
try {
  const tarball = await pack(dir, destination);
  const manifest = tarballManifest(tarball);
  const problems = [
    ...manifestProblems(manifest, tarballFiles(tarball), relative(root, dir)),
    ...readmeProblems(tarballFile(tarball, 'README.md'), manifest),
  ];
  const lint = run(bin('publint'), ['run', tarball, '--strict']);
  const types = run(bin('attw'), [
    tarball,
    '--profile',
    'node16',
    '--ignore-rules',
    'cjs-resolves-to-esm',
    '--format',
    'table-flipped',
  ]);
  problems.push(...[lint, types].filter(Boolean));
  if (problems.length > 0) {
    console.error(`check-package: ${name}:\n${problems.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(
      `check-package: ${name}'s tarball: paths, fields, README, publint, attw (node16) all good`,
    );
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
