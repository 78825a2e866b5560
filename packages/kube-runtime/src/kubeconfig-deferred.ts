/**
 * The packages client-node's kubeconfig modules import for what a kubeconfig may ask for but
 * rarely does: undici for API clients (`makeApiClient`), and the proxy agents for a cluster with
 * a `proxy-url`. `importKubeConfig`'s hook answers those imports with stand-ins that load the
 * very copy client-node resolves on first use: `new SocksProxyAgent(...)` returns the real agent,
 * `SocksClient.createConnection(...)` calls the real one. undici is about 9 MB of RSS and 110
 * modules; socks-proxy-agent pulls in agent-base, whose namespace import of `node:http` loads
 * Node's own bundled undici, HTTP/2 and web streams (about 5 MB more).
 */

/** What a stand-in provides: classes (constructed), functions (called), static methods. */
interface StandIn {
  classes?: readonly string[];
  functions?: readonly string[];
  statics?: Readonly<Record<string, readonly string[]>>;
}

/** The deferred packages and the names client-node 2.0.1 takes from each. */
export const DEFERRED_PACKAGES: Readonly<Record<string, StandIn>> = Object.freeze({
  undici: { classes: ['Agent', 'ProxyAgent'], functions: ['fetch'] },
  'socks-proxy-agent': { classes: ['SocksProxyAgent'] },
  hpagent: { classes: ['HttpProxyAgent', 'HttpsProxyAgent'] },
  socks: { statics: { SocksClient: ['createConnection'] } },
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

/** Whether every use of a local name in a source is one the stand-in provides. */
function usedAsProvided(source: string, local: string, imported: string, standIn: StandIn) {
  if (new RegExp(`instanceof\\s+${escapeRegExp(local)}\\b`).test(source)) return false;
  const statics = standIn.statics?.[imported];
  if (statics === undefined) return true;
  // Besides its import, each mention calls one of the static methods provided.
  const mentions = source.match(new RegExp(`\\b${escapeRegExp(local)}\\b`, 'g'))?.length ?? 0;
  const calls =
    source.match(
      new RegExp(`\\b${escapeRegExp(local)}\\.(?:${statics.map(escapeRegExp).join('|')})\\(`, 'g'),
    )?.length ?? 0;
  return mentions === calls + 1;
}

/**
 * Whether a module source takes from a deferred package only names its stand-in provides, in
 * named imports, and uses them only as provided (constructed, called, or their static methods
 * called; never tested with `instanceof`, since a stand-in class is not the package's). Exported
 * for tests.
 */
export function takesOnlyDeferrable(source: string, specifier: string): boolean {
  const standIn = DEFERRED_PACKAGES[specifier];
  if (standIn === undefined) return false;
  const provided = new Set([
    ...(standIn.classes ?? []),
    ...(standIn.functions ?? []),
    ...Object.keys(standIn.statics ?? {}),
  ]);
  const quoted = `['"]${escapeRegExp(specifier)}['"]`;
  // Every way the source loads it (other strings equal to its name load nothing).
  const mentions =
    source.match(new RegExp(`\\b(?:from|import|require)\\s*\\(?\\s*${quoted}`, 'g'))?.length ?? 0;
  const imports = [
    ...source.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*${quoted}`, 'g')),
  ];
  if (mentions === 0 || imports.length !== mentions) return false;
  return imports.every((match) => {
    const specifiers = (match[1] ?? '')
      .split(',')
      .map((text) => text.trim())
      .filter(Boolean);
    return (
      specifiers.length > 0 &&
      specifiers.every((text) => {
        const [imported = '', local = imported] = text.split(/\s+as\s+/);
        return provided.has(imported) && usedAsProvided(source, local, imported, standIn);
      })
    );
  });
}

/**
 * The stand-in module for a deferred package, loading it on first use with `require` from
 * `parentUrl` (the importing file, so that the copy it resolves is the one loaded).
 */
export function deferredStandIn(specifier: string, parentUrl: string): string {
  const standIn = DEFERRED_PACKAGES[specifier] ?? {};
  const lines = [
    "import { createRequire } from 'node:module';",
    'let loaded;',
    `const load = () => (loaded ??= createRequire(${JSON.stringify(parentUrl)})(${JSON.stringify(specifier)}));`,
  ];
  for (const name of standIn.classes ?? []) {
    lines.push(
      `export class ${name} { constructor(...args) { return new (load().${name})(...args); } }`,
    );
  }
  for (const name of standIn.functions ?? []) {
    lines.push(`export function ${name}(...args) { return load().${name}(...args); }`);
  }
  for (const [name, methods] of Object.entries(standIn.statics ?? {})) {
    const forwards = methods.map(
      (method) =>
        `static ${method}(...args) { const real = load().${name}; return real.${method}(...args); }`,
    );
    lines.push(`export class ${name} { ${forwards.join(' ')} }`);
  }
  return `data:text/javascript,${encodeURIComponent(`${lines.join('\n')}\n`)}`;
}
