import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  CHECKED_CLIENT_NODE,
  missingReexportedFiles,
  takesOnlyReexportedNames,
} from '../src/kubeconfig.js';
import { takesOnlyDeferrable } from '../src/kubeconfig-deferred.js';
import { installedClientNode } from '../src/testing.js';

const source = fileURLToPath(new URL('../src/kubeconfig.ts', import.meta.url));

// Each case runs in a fresh Node process: which modules a load pulls in is process-wide state,
// and this worker may already hold client-node.
const probe = `
import * as nodeModule from 'node:module';
const loaded = [];
nodeModule.registerHooks({
  // The source runs as TypeScript (type stripping): its './x.js' imports are './x.ts' files.
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (!specifier.startsWith('./') || !specifier.endsWith('.js')) throw error;
      return next(specifier.replace(/\\.js$/, '.ts'), context);
    }
  },
  load(url, context, next) { loaded.push(url); return next(url, context); },
});
if (process.env.HIDE_REGISTER_HOOKS) {
  // A Node before 22.15, which has no module.registerHooks, as far as the code below can see.
  delete nodeModule.default.registerHooks;
  nodeModule.syncBuiltinESMExports();
}
if (process.env.PRELOAD) await import('@kubernetes/client-node');
const { importKubeConfig, loadKubeConfigModule } = await import(${JSON.stringify(source)});
const logs = [];
const logger = { info: (fields, message) => logs.push({ ...fields, message }) };
await importKubeConfig({ logger });
await importKubeConfig();
const { KubeConfig, load } = await loadKubeConfigModule();
const kubeConfig = new KubeConfig();
const config = (server) => \`
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "\${server}", certificate-authority-data: "Q0E="}}]
users: [{name: u, user: {token: planted-token}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: team}}]
current-context: x
\`;
kubeConfig.loadFromString(config('https://127.0.0.1:6443'));
const options = {};
await kubeConfig.applyToHTTPSOptions(options);
const models = loaded.filter((url) => url.includes('/dist/gen/models/')).length;
const undici = loaded.filter((url) => url.includes('/undici/')).length;
const proxyPackages = () =>
  loaded.filter((url) =>
    ['/socks/', '/socks-proxy-agent/', '/hpagent/', '/agent-base/'].some((p) => url.includes(p)),
  ).length;
const proxyPackagesBefore = proxyPackages();
// A cluster behind a proxy gets the proxy package's own agent, loaded now.
const proxyAgent = async (server, proxyUrl) => {
  const proxied = new KubeConfig();
  proxied.loadFromString(config(server).replace('server:', \`proxy-url: "\${proxyUrl}", server:\`));
  const proxiedOptions = {};
  await proxied.applyToHTTPSOptions(proxiedOptions);
  return proxiedOptions.agent?.constructor.name;
};
const socksAgent = await proxyAgent('https://127.0.0.1:6443', 'socks5://127.0.0.1:1080');
const httpsProxyAgent = await proxyAgent('https://127.0.0.1:6443', 'http://127.0.0.1:3128');
const full = await import('@kubernetes/client-node');
const api = kubeConfig.makeApiClient(full.CoreV1Api);
// An API call goes through undici (its Agent for the CA, then its fetch): to a port where
// nothing listens, so it must fail with the connection refused.
const { createServer } = await import('node:net');
const free = createServer().listen(0, '127.0.0.1');
await new Promise((resolve) => free.once('listening', resolve));
const port = free.address().port;
await new Promise((resolve) => free.close(resolve));
const caller = new KubeConfig();
caller.loadFromString(config(\`https://127.0.0.1:\${port}\`));
const apiCall = await caller.makeApiClient(full.CoreV1Api).listNamespace().then(
  () => 'answered',
  (error) => error.cause?.code ?? error.message,
);
console.log(JSON.stringify({
  load,
  logs,
  models,
  undici,
  apiCall,
  proxyPackagesBefore,
  proxyPackagesAfter: proxyPackages(),
  socksAgent,
  httpsProxyAgent,
  generatedConfiguration: loaded.some((url) => url.endsWith('/dist/gen/configuration.js')),
  hooked: loaded.some((url) => url.startsWith('data:')),
  sameClass: full.KubeConfig === KubeConfig,
  server: kubeConfig.getCurrentCluster()?.server,
  namespace: kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace,
  authorization: options.headers?.Authorization,
  ca: Buffer.from(options.ca ?? '').toString(),
  apiServer: api.api?.configuration?.baseServer?.makeRequestContext('/api', 'GET').getUrl(),
}));
`;

async function runProbe(env: Record<string, string> = {}) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '--no-warnings', '-e', probe],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, ...env } },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}

describe('importKubeConfig', () => {
  it("loads client-node's KubeConfig without its generated API models, and it works in full", async () => {
    const result = await runProbe();
    expect(result).toMatchObject({
      load: 'slim',
      hooked: true,
      generatedConfiguration: true,
      sameClass: true,
      server: 'https://127.0.0.1:6443',
      namespace: 'team',
      authorization: 'Bearer planted-token',
      ca: 'CA',
      apiServer: 'https://127.0.0.1:6443/api',
      apiCall: 'ECONNREFUSED',
    });
    // One line for the call given a logger; the cached load is not logged again without one.
    expect(result.logs).toEqual([
      { load: 'slim', message: "client-node's KubeConfig loaded without its generated API models" },
    ]);
    // The models and undici are only loaded by the later import of the whole package and the API
    // call in the probe; the proxy packages only by the kubeconfigs with a proxy-url, whose
    // agents are the packages' own.
    expect(result.models).toBe(0);
    expect(result.undici).toBe(0);
    expect(result.proxyPackagesBefore).toBe(0);
    expect(result.proxyPackagesAfter).toBeGreaterThan(0);
    expect(result).toMatchObject({
      socksAgent: 'SocksProxyAgent',
      httpsProxyAgent: 'HttpsProxyAgent',
    });
  });

  it("says 'full' when the program had already imported the whole package", async () => {
    const result = await runProbe({ PRELOAD: '1' });
    expect(result.logs).toMatchObject([
      { load: 'full', reason: expect.stringMatching(/loaded before/) },
    ]);
    expect(result).toMatchObject({
      load: 'full',
      hooked: false,
      sameClass: true,
      apiCall: 'ECONNREFUSED',
    });
    expect(result.models).toBeGreaterThan(500);
    expect(result.undici).toBeGreaterThan(50);
  });

  it('imports the whole package, and logs why, on a Node without module.registerHooks (before 22.15)', async () => {
    const result = await runProbe({ HIDE_REGISTER_HOOKS: '1' });
    expect(result.logs).toEqual([
      {
        load: 'full',
        reason: 'this Node has no module.registerHooks (22.15 or later has)',
        message: "client-node's KubeConfig loaded with its generated API models",
      },
    ]);
    expect(result).toMatchObject({
      load: 'full',
      hooked: false,
      sameClass: true,
      server: 'https://127.0.0.1:6443',
      apiCall: 'ECONNREFUSED',
    });
    expect(result.models).toBeGreaterThan(500);
  });

  it('imports the whole package when VMCP_KUBECONFIG_LOAD=full', async () => {
    const result = await runProbe({ VMCP_KUBECONFIG_LOAD: 'full' });
    expect(result.logs).toEqual([
      {
        load: 'full',
        reason: 'VMCP_KUBECONFIG_LOAD=full',
        message: "client-node's KubeConfig loaded with its generated API models",
      },
    ]);
    expect(result).toMatchObject({
      load: 'full',
      hooked: false,
      sameClass: true,
      apiServer: 'https://127.0.0.1:6443/api',
      apiCall: 'ECONNREFUSED',
    });
    expect(result.models).toBeGreaterThan(500);
    expect(result.undici).toBeGreaterThan(50);
  });
});

describe('the client-node the hook was checked against', () => {
  it('is the one installed: an upgrade means checking the new config.js first', () => {
    // On failure: read the installed dist/config.js (what it imports from './gen/index.js' and
    // from undici), then update CHECKED_CLIENT_NODE and the exact version in package.json.
    expect(installedClientNode()).toEqual(CHECKED_CLIENT_NODE);
  });

  it('is the exact version the workspace tests on (devDependencies), inside the peer range', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(manifest.devDependencies['@kubernetes/client-node']).toBe(CHECKED_CLIENT_NODE.version);
    // A program brings its own client-node (one copy, its KubeConfig is the runtime's); the
    // consumer check (scripts/check-consumer.mjs) runs 1.4 and another 2.x.
    expect(manifest.peerDependencies['@kubernetes/client-node']).toBe('^1.4.0 || ^2.0.0');
    expect(manifest.dependencies['@kubernetes/client-node']).toBeUndefined();
  });
});

describe('missingReexportedFiles', () => {
  it('finds both files beside the installed config.js', () => {
    const index = createRequire(import.meta.url).resolve('@kubernetes/client-node');
    expect(missingReexportedFiles(new URL('./config.js', pathToFileURL(index)).href)).toEqual([]);
  });

  it('names the files a client-node laid out differently lacks (the slim load is then not used)', () => {
    const dist = mkdtempSync(join(tmpdir(), 'vmcp-client-node-'));
    try {
      mkdirSync(join(dist, 'gen'));
      writeFileSync(join(dist, 'gen', 'servers.js'), '');
      const configUrl = pathToFileURL(join(dist, 'config.js')).href;
      expect(missingReexportedFiles(configUrl)).toEqual(['gen/configuration.js']);
      rmSync(join(dist, 'gen'), { recursive: true });
      expect(missingReexportedFiles(configUrl)).toEqual(['gen/configuration.js', 'gen/servers.js']);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});

describe('takesOnlyReexportedNames', () => {
  const barrel = "'./gen/index.js'";
  it.each([
    ['the 2.0 shape', `import { createConfiguration, ServerConfiguration, } from ${barrel};`, true],
    ['one of the names', `import { ServerConfiguration } from ${barrel};`, true],
    ['another name too', `import { createConfiguration, CoreV1Api } from ${barrel};`, false],
    ['a namespace import', `import * as gen from ${barrel};`, false],
    [
      'a second mention',
      `import { createConfiguration } from ${barrel};\nconst m = await import(${barrel});`,
      false,
    ],
    ['no mention', "import { createConfiguration } from './gen/configuration.js';", false],
    ['an empty import', `import {} from ${barrel};`, false],
  ])('%s → %s', (_name, source, expected) => {
    expect(takesOnlyReexportedNames(source)).toBe(expected);
  });
});

describe('takesOnlyDeferrable', () => {
  it.each([
    [
      "client-node 2.0's config.js",
      "import { Agent as UndiciAgent, ProxyAgent as UndiciProxyAgent, } from 'undici';\nnew UndiciAgent({});",
      true,
    ],
    ['its isomorphic-fetch.js', "import { fetch } from 'undici';\nfetch(url);", true],
    ['another name', "import { fetch, Headers } from 'undici';", false],
    ['an instanceof test', "import { Agent } from 'undici';\nif (x instanceof Agent) {}", false],
    ['a namespace import', "import * as undici from 'undici';", false],
    ['a default import', "import undici from 'undici';", false],
    [
      'a second mention',
      "import { fetch } from 'undici';\nconst { Agent } = await import('undici');",
      false,
    ],
    ['a require', "import { fetch } from 'undici';\nconst { Agent } = require('undici');", false],
    ['no mention', "import { fetch } from 'node-fetch';", false],
  ])('undici, %s → %s', (_name, source, expected) => {
    expect(takesOnlyDeferrable(source, 'undici')).toBe(expected);
  });

  it.each([
    [
      "client-node 2.0's config.js: proxy agents constructed, a static method called",
      [
        "import { SocksProxyAgent } from 'socks-proxy-agent';",
        "import { SocksClient } from 'socks';",
        "import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';",
        'SocksClient.createConnection({}, callback);',
        "if (proxyUrl.startsWith('socks')) {}",
        'agent = new SocksProxyAgent(url, options);',
        'agent = new HttpsProxyAgent(options); other = new HttpProxyAgent(options);',
      ].join('\n'),
      { 'socks-proxy-agent': true, socks: true, hpagent: true },
    ],
    [
      'another static method, or the class itself',
      "import { SocksClient } from 'socks';\nSocksClient.createConnection(a);\nnew SocksClient(b);",
      { socks: false },
    ],
    [
      'an instanceof test',
      "import { HttpsProxyAgent } from 'hpagent';\nif (agent instanceof HttpsProxyAgent) {}",
      { hpagent: false },
    ],
    ['a package nobody deferred', "import { parse } from 'js-yaml';", { 'js-yaml': false }],
  ])('%s', (_name, source, expected) => {
    for (const [specifier, deferrable] of Object.entries(expected)) {
      expect(takesOnlyDeferrable(source, specifier), specifier).toBe(deferrable);
    }
  });
});
