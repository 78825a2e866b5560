import { existsSync, readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { deferredStandIn, takesOnlyDeferrable } from './kubeconfig-deferred.js';
import type { Logger } from './types.js';

/**
 * The `@kubernetes/client-node` release the slim load was checked against, and the SHA-256 of its
 * `dist/config.js`. package.json's devDependency pins that exact version (the one the workspace
 * tests on), and a test fails when the installed `config.js` differs, so that upgrading it is a
 * deliberate act: check the new `config.js` (what it takes from `./gen/index.js` and from the
 * packages kubeconfig-deferred.ts defers), then update both here. A program may install any
 * client-node of the peer range: the load checks the installed files themselves, and loads the
 * whole package (saying why) where they do not fit.
 */
export const CHECKED_CLIENT_NODE = Object.freeze({
  version: '2.0.1',
  configSha256: 'dfa5986a76e2d1e1fdcee8d9bd98b5266f070b8e0b2168a387497b39794f1a81',
});

/** How {@link importKubeConfig} loaded client-node's `KubeConfig`. */
export type KubeConfigLoad =
  /** Only the kubeconfig module and what it needs, without the generated API clients. */
  | 'slim'
  /** With the generated API models: the whole package was imported, or already loaded. */
  | 'full';

/** The names client-node's `config.js` may take from its generated barrel for `slim` to hold. */
const GENERATED_NAMES = new Set(['createConfiguration', 'ServerConfiguration']);
const GENERATED_BARREL = './gen/index.js';

/** The loaded module, how, and (for `full`) why. */
export interface KubeConfigModule {
  KubeConfig: typeof KubeConfig;
  load: KubeConfigLoad;
  /** Why the load is `full`. */
  reason?: string;
}

let loading: Promise<KubeConfigModule> | undefined;

/**
 * Returns `@kubernetes/client-node`'s `KubeConfig` class (file, `KUBECONFIG`, in-cluster,
 * exec/OIDC/cloud auth, proxies: all of client-node's loading), without paying for the ~2,700
 * generated API models the package index drags in (about 50 MB of RSS on Node 24).
 *
 * client-node's `config.js` imports its generated barrel (`./gen/index.js`) for two names used by
 * `makeApiClient`. Where Node has synchronous module hooks (`module.registerHooks`, Node >= 22.15)
 * and the installed client-node still imports exactly those names, a resolve hook scoped to that
 * one import of that one file points it at a module re-exporting them from the very files the
 * barrel re-exports (same module instances, so `makeApiClient` and a later full import of the
 * package behave as before). The same hook defers what client-node's kubeconfig modules import
 * for API clients and proxies only (undici, socks-proxy-agent, socks, hpagent: see
 * kubeconfig-deferred.ts) to their first use. The hook is removed once the module has loaded.
 * Otherwise, or when `VMCP_KUBECONFIG_LOAD=full`, the package index is imported. The result is
 * cached; a call given a `logger` logs which way it loaded (and why, when `full`) at info level,
 * one line per call.
 *
 * @example
 * const KubeConfig = await importKubeConfig({ logger });
 * const kubeConfig = new KubeConfig();
 * kubeConfig.loadFromDefault();
 */
export async function importKubeConfig(
  options: { logger?: Logger } = {},
): Promise<typeof KubeConfig> {
  const { load, reason, ...loaded } = await loadKubeConfigModule();
  if (options.logger !== undefined) {
    options.logger.info(
      { load, ...(reason === undefined ? {} : { reason }) },
      `client-node's KubeConfig loaded ${load === 'slim' ? 'without' : 'with'} its generated API models`,
    );
  }
  return loaded.KubeConfig;
}

/** Like {@link importKubeConfig}, also saying which way it was loaded (for tests). */
export function loadKubeConfigModule(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<KubeConfigModule> {
  loading ??= loadOnce(env);
  return loading;
}

async function loadOnce(
  env: Readonly<Record<string, string | undefined>>,
): Promise<KubeConfigModule> {
  const config = slimConfig(env);
  if ('reason' in config) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    return { KubeConfig, load: 'full', reason: config.reason };
  }
  const configUrl = config.url;
  const shim = generatedShim(configUrl);
  const dist = new URL('./', configUrl).href;
  // Whether the hook was used: not when the module was already loaded (the program imported the
  // whole package first) or when the loader names it differently (`--preserve-symlinks`).
  let redirected = false;
  const hooks = nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === GENERATED_BARREL && context.parentURL === configUrl) {
        redirected = true;
        return { url: shim, format: 'module', shortCircuit: true };
      }
      // Packages used only by API clients and proxies (kubeconfig-deferred.ts): loaded on first use.
      if (
        context.parentURL?.startsWith(dist) &&
        takesOnlyDeferrable(
          context.parentURL === configUrl ? config.source : readSource(context.parentURL),
          specifier,
        )
      ) {
        return { url: deferredStandIn(specifier, configUrl), format: 'module', shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
  try {
    const { KubeConfig } = (await import(configUrl)) as typeof import('@kubernetes/client-node');
    return redirected
      ? { KubeConfig, load: 'slim' }
      : {
          KubeConfig,
          load: 'full',
          reason: 'client-node was loaded before (or through a symlink)',
        };
  } finally {
    hooks.deregister();
  }
}

/**
 * The module the hook puts in place of the generated barrel: one re-exporting the two names
 * `config.js` takes from the very files the barrel re-exports them from.
 */
function generatedShim(configUrl: string): string {
  const generated = new URL('./gen/', configUrl).href; // see missingReexportedFiles
  return dataModule(
    `export * from ${JSON.stringify(`${generated}configuration.js`)};\n` +
      `export * from ${JSON.stringify(`${generated}servers.js`)};\n`,
  );
}

const dataModule = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

/** A module's source, or '' when it cannot be read (which no check accepts). */
function readSource(url: string): string {
  try {
    return readFileSync(new URL(url), 'utf8');
  } catch {
    return '';
  }
}

/**
 * The URL and source of client-node's `config.js` when the slim load can be used: module hooks
 * exist, it is not switched off, and the installed `config.js` takes nothing else from the
 * generated barrel. Otherwise why not.
 */
function slimConfig(
  env: Readonly<Record<string, string | undefined>>,
): { url: string; source: string } | { reason: string } {
  if (env.VMCP_KUBECONFIG_LOAD === 'full') return { reason: 'VMCP_KUBECONFIG_LOAD=full' };
  if (typeof nodeModule.registerHooks !== 'function')
    return { reason: 'this Node has no module.registerHooks (22.15 or later has)' };
  let url: string;
  try {
    const index = nodeModule.createRequire(import.meta.url).resolve('@kubernetes/client-node');
    url = new URL('./config.js', pathToFileURL(index)).href;
  } catch {
    return { reason: 'client-node could not be resolved from here' };
  }
  const source = readSource(url);
  if (!takesOnlyReexportedNames(source))
    return {
      reason: "client-node's config.js takes more than the two names from its generated barrel",
    };
  const missing = missingReexportedFiles(url);
  return missing.length === 0
    ? { url, source }
    : { reason: `client-node has no ${missing.join(' or ')} to take the two names from` };
}

/**
 * The files the slim module re-exports from (`gen/configuration.js`, `gen/servers.js`, beside
 * `config.js`) that do not exist. Exported for tests.
 */
export function missingReexportedFiles(configUrl: string): string[] {
  return ['configuration.js', 'servers.js']
    .map((name) => `gen/${name}`)
    .filter((path) => !existsSync(new URL(`./${path}`, configUrl)));
}

/**
 * Whether a `config.js` source mentions the generated barrel exactly once, in a named import of
 * names the slim module re-exports. Exported for tests.
 */
export function takesOnlyReexportedNames(source: string): boolean {
  if (source.split(GENERATED_BARREL).length !== 2) return false;
  const named = /import\s*\{([^}]*)\}\s*from\s*'\.\/gen\/index\.js'/.exec(source);
  if (named === null) return false;
  const names = (named[1] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((name) => GENERATED_NAMES.has(name));
}
