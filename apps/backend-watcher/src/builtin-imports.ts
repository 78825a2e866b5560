/**
 * ES module imports of Node's built-in modules, as cheap as `require`.
 *
 * The first `import … from 'node:http'` anywhere in a process builds the module's ES facade,
 * and that reads every export of `node:http`, lazy getters included: `WebSocket`, `CloseEvent`
 * and `MessageEvent` load Node's bundled undici, HTTP/2, web streams and workers (about 7 MB and
 * a hundred internal modules the sidecar never uses). `node:fs` (its `promises`), `node:util`,
 * `node:crypto` (`webcrypto`) and others do the same on a smaller scale. Our code and the
 * packages it loads (client-node's kubeconfig among them) import them that way.
 *
 * The hook below answers such an import with a small module made for the importing file: the
 * default export and the named exports that file imports, read from
 * `process.getBuiltinModule` (the object `require` returns, which builds no facade), so a getter
 * runs only if the file names it. A file that imports the built-in any other way (a namespace
 * import, a re-export, a dynamic import, a mention the scan cannot account for) gets the real
 * module as before.
 */
import { builtinModules, registerHooks } from 'node:module';

/** What one file imports from one built-in: default and named bindings, or undefined if unsure. */
export interface BuiltinImports {
  default: boolean;
  names: string[];
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Parses `{ a, b as c, default as d }`: the imported names (`default` meaning the default
 * export); undefined when a specifier is not a plain name.
 */
function namedImports(list: string): string[] | undefined {
  const names: string[] = [];
  for (const specifier of list.split(',')) {
    const trimmed = specifier.trim();
    if (trimmed === '' || trimmed.startsWith('type ')) continue;
    const imported = trimmed.split(/\s+as\s+/)[0] as string;
    if (!IDENTIFIER.test(imported)) return undefined;
    names.push(imported);
  }
  return names;
}

/**
 * The bindings a module source imports from a built-in (`http` or `node:http`), when every
 * way it loads it is a static `import` of a default and/or named bindings; otherwise undefined.
 */
export function builtinImportsOf(source: string, builtin: string): BuiltinImports | undefined {
  const quoted = `['"](?:node:)?${builtin}['"]`;
  // Every way an ES module can load it: `from '…'` (imports, re-exports), `import '…'` and
  // `import('…')`. Other strings that happen to equal its name load nothing.
  const mentions =
    source.match(new RegExp(`\\b(?:from|import)\\s*\\(?\\s*${quoted}`, 'g'))?.length ?? 0;
  const statement = new RegExp(
    `\\bimport\\s+(?:([A-Za-z_$][\\w$]*)\\s*(?:,\\s*)?)?(?:\\{([^}]*)\\}\\s*)?from\\s*${quoted}`,
    'g',
  );
  const found: BuiltinImports = { default: false, names: [] };
  let statements = 0;
  for (const match of source.matchAll(statement)) {
    statements++;
    if (match[1] === undefined && match[2] === undefined) return undefined;
    const names = match[2] === undefined ? [] : namedImports(match[2]);
    if (names === undefined) return undefined;
    if (match[1] !== undefined || names.includes('default')) found.default = true;
    found.names.push(...names.filter((name) => name !== 'default'));
  }
  if (mentions === 0 || statements !== mentions) return undefined;
  found.names = [...new Set(found.names)];
  return found;
}

/** The module answering those imports: the `require` object's properties, nothing more. */
export function leanBuiltinModule(builtin: string, imports: BuiltinImports): string {
  const lines = [`const m = process.getBuiltinModule(${JSON.stringify(`node:${builtin}`)});`];
  if (imports.default) lines.push('export default m;');
  for (const name of imports.names) lines.push(`export const ${name} = m.${name};`);
  return `data:text/javascript,${encodeURIComponent(lines.join('\n'))}`;
}

const readFileSync = process.getBuiltinModule('node:fs').readFileSync;

/**
 * What a file imports from each built-in it mentions (undefined where the file imports it some
 * other way), or an empty map when it is not a readable file. Only this is kept, not the source.
 */
function importsByBuiltin(
  url: string,
  builtins: ReadonlySet<string>,
): Map<string, BuiltinImports | undefined> {
  const found = new Map<string, BuiltinImports | undefined>();
  let source: string;
  try {
    if (!url.startsWith('file:')) return found;
    source = readFileSync(new URL(url), 'utf8');
  } catch {
    return found;
  }
  for (const [, name] of source.matchAll(/['"](?:node:)?([a-z_0-9]+)['"]/g)) {
    if (builtins.has(name as string) && !found.has(name as string)) {
      found.set(name as string, builtinImportsOf(source, name as string));
    }
  }
  return found;
}

/**
 * Registers the hook for the rest of the process (call it first, before importing what should
 * benefit). Without `module.registerHooks` (Node older than 22.15) it does nothing.
 */
export function registerLeanBuiltinImports(): void {
  if (typeof registerHooks !== 'function') return;
  const builtins = new Set(builtinModules.filter((name) => !name.includes('/')));
  const files = new Map<string, Map<string, BuiltinImports | undefined>>();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const builtin = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
      const parent = context.parentURL;
      if (
        !builtins.has(builtin) ||
        parent === undefined ||
        !context.conditions.includes('import')
      ) {
        return nextResolve(specifier, context);
      }
      let imports = files.get(parent);
      if (imports === undefined) {
        imports = importsByBuiltin(parent, builtins);
        files.set(parent, imports);
      }
      const bindings = imports.get(builtin);
      if (bindings === undefined) return nextResolve(specifier, context);
      return { url: leanBuiltinModule(builtin, bindings), format: 'module', shortCircuit: true };
    },
  });
}
