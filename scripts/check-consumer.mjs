#!/usr/bin/env node
// A strict TypeScript service installs the published packages, as `pnpm verify`'s last step.
// Every published package is packed as `pnpm publish` would; then, for each variant below, a
// scratch project (node_modules/.cache/vmcp-consumer/<variant>) installs the tarballs with npm
// beside the consumer's own `@kubernetes/client-node` (a different one than the workspace's) and
// checks, from the consumer's side:
// - one copy of client-node in the whole tree (the packages take it as a peer);
// - a typecheck with skipLibCheck false, strict, exactOptionalPropertyTypes,
//   noUncheckedIndexedAccess and nodenext (scripts/consumer/tsconfig.json) of: each package's
//   README examples as ES modules, a CommonJS program requiring every package (require.cts), the
//   consumer's own KubeConfig handed to every package that takes one (kubeconfig.mts), console
//   and pino as the one Logger shape (logger.mts), registry-client's metrics typed without
//   prom-client (metrics.mts);
// - every package, and each subpath it exports, loaded with require() (run.cjs) and import
//   (run.mjs) on each Node of the variant, where run.mjs also loads KubeConfig with
//   importKubeConfig (its log says slim, or full and why), lists namespaces of the fake API server
//   through KubeClient with a KubeConfig of the consumer's copy, and asks
//   @vmcp/kube-runtime/testing which client-node it resolves (the consumer's).
// npm works offline from its cache once it has run here (`--prefer-offline`); the first run
// fetches from the npm registry. Both variants run at once.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack } from './pack.mjs';
import { workspacePackageDirs } from './workspace-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const programs = fileURLToPath(new URL('./consumer/', import.meta.url));
const scratchRoot = join(root, 'node_modules', '.cache', 'vmcp-consumer');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const node22 = join(root, 'node_modules', 'node22', 'bin', 'node');
const NO_REGISTER_HOOKS = 'this Node has no module.registerHooks (22.15 or later has)';

/**
 * What each scratch project installs and where it runs. The latest 2.x that is not the
 * workspace's on Node 24 and 22; and 1.4 (the oldest of the peer range) on Node 22.12, the oldest
 * Node the libraries support, which has no module.registerHooks (client-node 2 needs Node 22.19
 * through undici 8, so 22.12 is run with 1.4).
 */
const VARIANTS = [
  {
    name: 'client-node-2.0.0',
    clientNode: '2.0.0',
    nodes: [
      { label: 'Node 24', path: process.execPath, slim: true },
      { label: 'Node 22', path: node22, slim: true },
    ],
  },
  {
    name: 'client-node-1.4.0',
    clientNode: '1.4.0',
    extraDevDependencies: { node: '22.12.0' },
    nodes: [{ label: 'Node 22.12', path: 'node_modules/node/bin/node', slim: false }],
  },
];

function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...options },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else
          reject(
            new Error(`${[command, ...args].join(' ')} failed:\n${stdout.slice(-4000)}${stderr}`),
          );
      },
    );
  });
}

/** The specifiers a consumer loads a package by: its name and each subpath its exports map has. */
function entryPoints(manifest) {
  const exports = manifest.publishConfig?.exports ?? manifest.exports ?? { '.': '' };
  return Object.keys(exports)
    .filter((subpath) => !subpath.endsWith('.json'))
    .map((subpath) => `${manifest.name}${subpath.slice(1)}`);
}

/**
 * The published packages: name, folder, entry points, engines, README examples (not the
 * test-runner ones).
 */
function publishedPackages() {
  return workspacePackageDirs(root)
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => {
      const examples = join(dir, 'examples');
      return {
        name: manifest.name,
        dir,
        entries: entryPoints(manifest),
        needs24: manifest.engines?.node === '>=24',
        examples: existsSync(examples)
          ? readdirSync(examples)
              .filter((file) => file.endsWith('.ts'))
              .map((file) => join(examples, file))
              .filter((file) => !/from 'vitest'/.test(readFileSync(file, 'utf8')))
          : [],
      };
    });
}

/** Writes the scratch project of a variant: package.json, tsconfig, programs, README examples. */
function prepare(variant, packages, tarballs) {
  const dir = join(scratchRoot, variant.name);
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) {
    if (entry !== 'node_modules') rmSync(join(dir, entry), { recursive: true, force: true });
  }
  // Reinstalled every time: a tarball of the same version may hold other files.
  rmSync(join(dir, 'node_modules', '@vmcp'), { recursive: true, force: true });
  const dependencies = Object.fromEntries(
    packages.map(({ name }) => [name, `file:${tarballs.get(name)}`]),
  );
  const manifest = {
    name: 'vmcp-consumer',
    private: true,
    type: 'module',
    dependencies: {
      ...dependencies,
      '@kubernetes/client-node': variant.clientNode,
      pino: '^9.7.0',
      'prom-client': '^15.1.3',
    },
    devDependencies: { '@types/node': '^22.15.0', ...variant.extraDevDependencies },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  cpSync(programs, dir, { recursive: true });
  for (const { name, examples } of packages) {
    for (const file of examples) {
      const base = `readme-${name.split('/')[1]}-${file.split('/').at(-1).replace(/\.ts$/, '.mts')}`;
      cpSync(file, join(dir, base));
    }
  }
  return dir;
}

/** The folders holding a package.json of `name` anywhere in a node_modules tree. */
function copiesOf(dir, name) {
  const found = [];
  const walk = (modules) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const scoped = entry.startsWith('@')
        ? readdirSync(join(modules, entry)).map((inner) => `${entry}/${inner}`)
        : [entry];
      for (const pkg of scoped) {
        const path = join(modules, pkg);
        if (pkg === name && existsSync(join(path, 'package.json'))) found.push(path);
        walk(join(path, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

/** Runs one Node over run.cjs and run.mjs; returns what is wrong. */
async function checkRuns(dir, node, packages, clientNode) {
  const specifiers = packages
    .filter((pkg) => !pkg.needs24 || node.label === 'Node 24')
    .flatMap(({ entries }) => entries);
  const problems = [];
  const path = node.path.startsWith('/') ? node.path : join(dir, node.path);
  const required = JSON.parse(await run(path, ['run.cjs', ...specifiers], { cwd: dir }));
  const imported = JSON.parse(
    (await run(path, ['--no-warnings', 'run.mjs', ...specifiers], { cwd: dir }))
      .trim()
      .split('\n')
      .at(-1),
  );
  for (const name of specifiers) {
    if (!(required[name] > 0)) problems.push(`${node.label}: require('${name}') exports nothing`);
    if (!(imported.exported[name] > 0)) problems.push(`${node.label}: import('${name}') failed`);
  }
  const expected = node.slim ? { load: 'slim' } : { load: 'full', reason: NO_REGISTER_HOOKS };
  const log = imported.logs[0] ?? {};
  if (imported.logs.length !== 1 || log.load !== expected.load || log.reason !== expected.reason)
    problems.push(
      `${node.label}: importKubeConfig logged ${JSON.stringify(imported.logs)}, not ${JSON.stringify(expected)}`,
    );
  if (!imported.sameClass || !imported.fakeUsesOwn)
    problems.push(`${node.label}: KubeConfig is not the consumer's own class`);
  if (imported.testingClientNode !== clientNode)
    problems.push(
      `${node.label}: @vmcp/kube-runtime/testing resolves client-node ${imported.testingClientNode}`,
    );
  if (!imported.namespaces.includes('default'))
    problems.push(`${node.label}: listing namespaces gave ${imported.namespaces}`);
  return problems;
}

async function checkVariant(variant, packages, tarballs) {
  const started = performance.now();
  const dir = prepare(variant, packages, tarballs);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: dir,
    env: { ...process.env, npm_config_engine_strict: 'false' },
  });
  const problems = [];
  const copies = copiesOf(dir, '@kubernetes/client-node');
  const versions = copies.map(
    (path) => JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')).version,
  );
  if (copies.length !== 1 || versions[0] !== variant.clientNode)
    problems.push(
      `client-node: ${copies.length} copies (${copies.map((path) => `${relative(dir, path)}@${versions[copies.indexOf(path)]}`).join(', ')}), not one ${variant.clientNode}`,
    );
  await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch(
    (error) => problems.push(`typecheck: ${error.message}`),
  );
  for (const node of variant.nodes) {
    problems.push(
      ...(await checkRuns(dir, node, packages, variant.clientNode).catch((error) => [
        `${node.label}: ${error.message}`,
      ])),
    );
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  return { variant, problems, seconds };
}

const packages = publishedPackages();
const tarballDir = join(scratchRoot, 'tarballs');
rmSync(tarballDir, { recursive: true, force: true });
mkdirSync(tarballDir, { recursive: true });
const tarballs = new Map(
  await Promise.all(packages.map(async ({ name, dir }) => [name, await pack(dir, tarballDir)])),
);
const results = await Promise.all(
  VARIANTS.map((variant) =>
    checkVariant(variant, packages, tarballs).catch((error) => ({
      variant,
      problems: [error.message],
      seconds: '?',
    })),
  ),
);
let failed = false;
for (const { variant, problems, seconds } of results) {
  const where = variant.nodes.map((node) => node.label).join(', ');
  if (problems.length === 0) {
    console.log(
      `check-consumer: ${packages.length} packages with client-node ${variant.clientNode} (one copy), typechecked strict (ESM and CommonJS, skipLibCheck false) and run on ${where} (${seconds} s)`,
    );
  } else {
    failed = true;
    console.error(
      `check-consumer: with client-node ${variant.clientNode}:\n${problems.join('\n')}`,
    );
  }
}
process.exitCode = failed ? 1 : 0;
