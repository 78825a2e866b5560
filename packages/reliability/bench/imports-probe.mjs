// One build's import costs, step by step in the sidecar's order, in this one process: after each
// step a full GC, then the RSS (anonymous and file-backed), the V8 heap, and the step's time.
// argv: <build root: a checkout with apps/backend-watcher built> <kubeconfig> <namespace>
// Prints one JSON line per step. Run with --expose-gc (which changes no heap sizing).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, kubeconfig, namespace] = process.argv.slice(2);
const app = join(root, 'apps/backend-watcher');
// Every package comes from the build under test (its own copies, as its sidecar loads them),
// never from this package's dependencies.
const require = createRequire(join(app, 'package.json'));
const fromBuild = (name) => require(name);
const fs = process.getBuiltinModule('node:fs');
const v8 = process.getBuiltinModule('node:v8');

/** A package's ES entry as the app resolves it. */
function entry(name) {
  const manifestPath = require.resolve(`${name}/package.json`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const target = manifest.exports?.['.']?.import ?? manifest.main;
  return pathToFileURL(join(manifestPath, '..', target)).href;
}

async function measure(step, run) {
  const started = performance.now();
  const skipped = (await run()) === 'skip';
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 200));
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const mb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)[1]) / 1024;
  const heap = v8.getHeapStatistics();
  console.log(
    JSON.stringify({
      step,
      skipped,
      ms,
      rss: mb('VmRSS'),
      anon: mb('RssAnon'),
      file: mb('RssFile'),
      heap: heap.total_physical_size / 2 ** 20,
      modules: process.moduleLoadList.length,
    }),
  );
}

// The entry of a build with the import hook exports it and imports nothing else; an older
// entry imports the whole program, so it is not imported here.
const cliPath = join(app, 'dist/cli.js');
const hooked = fs.readFileSync(cliPath, 'utf8').includes('registerLeanBuiltinImports');
let KubeConfig;
let appIndex;
await measure('bare Node', () => undefined);
await measure('the import hook (builtin-imports.ts)', async () => {
  if (!hooked) return 'skip';
  (await import(pathToFileURL(cliPath).href)).registerLeanBuiltinImports();
});
// Static named imports, as the app and kube-runtime make them (the hook sees those).
await measure('node:http, https, crypto, zlib (ES imports)', async () => {
  const dir = fs.mkdtempSync(join(process.getBuiltinModule('node:os').tmpdir(), 'vmcp-imports-'));
  const file = join(dir, 'builtins.mjs');
  fs.writeFileSync(
    file,
    "import { createServer } from 'node:http';\nimport { request } from 'node:https';\n" +
      "import { createHash } from 'node:crypto';\nimport { gzipSync } from 'node:zlib';\n" +
      'export default [createServer, request, createHash, gzipSync];\n',
  );
  await import(pathToFileURL(file).href);
  fs.rmSync(dir, { recursive: true, force: true });
});
await measure('pino', () => void fromBuild('pino'));
await measure('prom-client (a registry)', () => void new (fromBuild('prom-client').Registry)());
await measure('@vmcp/kube-runtime', () => import(entry('@vmcp/kube-runtime')));
await measure("client-node's KubeConfig (importKubeConfig, a kubeconfig)", async () => {
  const runtime = await import(entry('@vmcp/kube-runtime'));
  KubeConfig = await runtime.importKubeConfig();
  new KubeConfig().loadFromFile(kubeconfig);
});
await measure('@vmcp/registry, discoverer, reconciler', async () => {
  for (const name of ['@vmcp/registry', '@vmcp/discoverer', '@vmcp/reconciler'])
    await import(entry(name));
});
await measure('the app (sidecar, HTTP API)', async () => {
  appIndex = await import(pathToFileURL(join(app, 'dist/index.js')).href);
});
await measure(
  'running: its logger, an empty namespace watched, the API answering, 5 s',
  async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfig);
    const sidecar = await appIndex.startSidecar({
      kubeConfig,
      namespace,
      groupRef: 'bench',
      listen: '127.0.0.1:0',
      logger: appIndex.createLogger('info', fs.createWriteStream('/dev/null')),
    });
    await sidecar.watcher.waitForRegistrySync({ timeoutMs: 60_000 });
    await fetch(`${sidecar.url}/readyz`);
    await new Promise((resolve) => setTimeout(resolve, 5000));
  },
);
process.exit(0);
