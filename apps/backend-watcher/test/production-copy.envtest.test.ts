import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient } from '@vmcp/kube-runtime';
import { eventually, runCommand } from '@vmcp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifests, readManifests } from '../src/manifests.js';
import {
  CliProcess,
  type CliSpawnOptions,
  runCli,
  SIDECAR_READY_TIMEOUT_MS,
} from './support/process.js';

// The copy the image is made of, made as deploy/Dockerfile makes it and run as the image runs it:
// as uid 65532 over files it cannot write. (No Docker engine runs here to build the image itself.)

const run = runCommand;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const APP = fileURLToPath(new URL('../', import.meta.url));
const DOCKERFILE = readFileSync(new URL('../deploy/Dockerfile', import.meta.url), 'utf8');
/** `pnpm deploy --prod` took 6 to 12 s here beside other test runs: ten times that. */
const DEPLOY_TIMEOUT_MS = 120_000;
/** The image's `USER`: the conventional "nonroot" uid and gid. */
const NONROOT = 65532;
const NS = 'default';
const EXPECTED = ['bedrock', 'docs', 'fetch', 'github', 'jira', 'wiki'];
/** The workspace's harnesses and tools: none of them may reach the image. */
const NOT_IN_PRODUCTION = [
  '@vmcp/envtest',
  '@vmcp/fake-apiserver',
  '@vmcp/toolhive-crds',
  '@vmcp/reliability',
  '@arethetypeswrong/cli',
  '@biomejs/biome',
  '@changesets/cli',
  'fast-check',
  'node',
  'publint',
  'tsup',
  'tsx',
  'turbo',
  'typescript',
  'vitest',
];

/** The Dockerfile's `pnpm deploy` command (`npx`'s arguments), without its output folder. */
function dockerfileDeploy(): string[] {
  const step = DOCKERFILE.replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.startsWith('RUN '))
    .flatMap((line) => line.slice('RUN '.length).split('&&'))
    .map((command) => command.trim().split(/\s+/))
    .find((words) => words[0] === 'npx' && words.includes('deploy') && words.at(-1) === '/out');
  if (step === undefined)
    throw new Error('deploy/Dockerfile has no `npx pnpm ... deploy ... /out` step');
  return step.slice(1, -1);
}

/**
 * Where `pnpm deploy --legacy` (10.34) also wrote bin shims of the copy's dependencies when the
 * copy is outside the workspace: the copy's path relative to the app, taken from the app's
 * `node_modules/.bin`, which lands inside the workspace (`<root>/tmp/…` here, `apps/…` for a
 * clone in /tmp, where the next `pnpm test` then took it for a package). The deploy of injected
 * workspace packages writes none there; a test says so.
 */
function strayShims(work: string): string {
  return resolve(APP, 'node_modules', '.bin', relative(APP, work));
}

/** Package names in a pnpm `node_modules/.pnpm` folder (`@scope+name@version_peers`). */
function storePackages(copy: string): string[] {
  return readdirSync(join(copy, 'node_modules', '.pnpm'))
    .filter((entry) => entry.includes('@', 1))
    .map((entry) => entry.slice(0, entry.indexOf('@', 1)).replace('+', '/'));
}

/** The text of every JavaScript file of the copy's own bundle. */
function bundleText(copy: string): string {
  const dist = join(copy, 'dist');
  return readdirSync(dist)
    .filter((name) => name.endsWith('.js'))
    .map((name) => readFileSync(join(dist, name), 'utf8'))
    .join('\n');
}

/**
 * The environment of the Dockerfile's build stage: this one with `CI=true`, without the variables
 * of the pnpm run around this test, and offline. The build stage deploys right after its install,
 * from the store it filled; here the workspace's install filled it, and a test talks to nothing
 * beyond loopback. Offline works because the deploy takes its versions from pnpm-lock.yaml:
 * `deploy --legacy` resolved every range again, which needs the registry's metadata, and a
 * fresh machine's frozen-lockfile install had cached none (`ERR_PNPM_NO_OFFLINE_META`, on the
 * first `pnpm test` of a fresh machine only).
 */
function buildEnv(): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name));
  return { ...Object.fromEntries(inherited), CI: 'true', npm_config_offline: 'true' };
}

let env: Env;
let work: string;
let copy: string;
let kubeconfig: string;
const asImage = (): CliSpawnOptions => ({
  cli: join(copy, 'dist', 'cli.js'),
  cwd: copy,
  uid: NONROOT,
  gid: NONROOT,
});
const processEnv = { HOME: '/nonexistent', NODE_ENV: 'production' };

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'running the copy as uid 65532, as the image does, needs root (CI runs as root)',
    );
  }
  work = mkdtempSync(join(tmpdir(), 'vmcp-production-copy-'));
  chmodSync(work, 0o755);
  copy = join(work, 'app');
  const [startedEnv] = await Promise.all([
    startEnv(),
    run('npx', [...dockerfileDeploy(), copy], {
      cwd: ROOT,
      env: buildEnv(),
      timeout: DEPLOY_TIMEOUT_MS,
    }),
  ]);
  env = startedEnv;
  await run('chmod', ['-R', 'a-w', copy]);
  kubeconfig = join(work, 'kubeconfig');
  copyFileSync(env.kubeconfigPath, kubeconfig);
  chownSync(kubeconfig, NONROOT, NONROOT);
  chmodSync(kubeconfig, 0o400);
  const client = new KubeClient(env.kubeConfig);
  try {
    await applyManifests(client, NS, readManifests(join(copy, 'examples')));
  } finally {
    await client.close();
  }
});
afterAll(async () => {
  await env?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the production copy (pnpm deploy --prod, as deploy/Dockerfile makes it)', () => {
  it('holds no test harness, no demo server and no build tool anywhere', () => {
    const packages = new Set(storePackages(copy));
    expect(packages.has('@vmcp/kube-runtime')).toBe(true); // the listing itself works
    expect(NOT_IN_PRODUCTION.filter((name) => packages.has(name))).toEqual([]);
    // tsup inlines what is not a dependency: a harness imported from src would hide in dist.
    const bundle = bundleText(copy);
    expect(bundle).toContain('startSidecar');
    for (const mark of ['vmcp-envtest-', 'vmcp-fake-apiserver-'])
      expect(bundle).not.toContain(mark);
  });

  it('holds the versions of the lockfile, and leaves nothing in the workspace', () => {
    expect(readFileSync(join(copy, 'pnpm-lock.yaml'), 'utf8')).toContain('@vmcp/kube-runtime');
    expect(existsSync(strayShims(work))).toBe(false);
  });

  it('cannot be written by the user the image runs as', async () => {
    const probe = `for (const path of process.argv.slice(1)) {
      try { require('node:fs').writeFileSync(path, 'x'); console.log('wrote ' + path); }
      catch (error) { console.log(error.code); }
    }`;
    const { stdout } = await run(
      process.execPath,
      ['-e', probe, join(copy, 'probe'), join(copy, 'dist', 'cli.js')],
      { uid: NONROOT, gid: NONROOT, cwd: copy },
    );
    expect(stdout.trim().split('\n')).toEqual(['EACCES', 'EACCES']);
  });

  it('runs as uid 65532 against a real API server until it serves the examples, and stops on SIGTERM', async () => {
    const sidecar = new CliProcess(
      [
        '--group',
        'engineering',
        '--namespace',
        NS,
        '--kubeconfig',
        kubeconfig,
        '--listen',
        '127.0.0.1:0',
      ],
      processEnv,
      asImage(),
    );
    try {
      const url = (await sidecar.waitForLog('serving')).url as string;
      const body = await eventually(async () => {
        const list = (await (await fetch(`${url}/v1/backends`)).json()) as {
          backends: { id: string }[];
        };
        expect(list.backends.map((backend) => backend.id)).toEqual(EXPECTED);
        return list;
      }, SIDECAR_READY_TIMEOUT_MS);
      expect(body.backends).toHaveLength(EXPECTED.length);
      sidecar.kill('SIGTERM');
      expect(await sidecar.exited).toEqual({ code: 0, signal: null });
    } finally {
      sidecar.kill();
    }
  });

  it('says what is missing when asked for the demo, whose packages it leaves out', async () => {
    const result = await runCli(['demo', '--once'], processEnv, asImage());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /demo needs @vmcp\/fake-apiserver and @vmcp\/toolhive-crds, optional peer dependencies .*npm install @vmcp\/fake-apiserver @vmcp\/toolhive-crds/,
    );
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
