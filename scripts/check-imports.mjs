// Every workspace package declares every package its code imports: sources, tests, benchmarks,
// scripts, examples and config files alike (a test that imports fast-check declares fast-check);
// and no relative import leaves its package (another package is reached through its name).
// Run by `pnpm verify`. Imports are read with TypeScript's own pre-processor, so dynamic
// `import('...')` and `import type` count too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { workspacePackageDirs } from './workspace-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const FOLDERS = ['src', 'test', 'bench', 'scripts', 'examples'];
const SKIP = new Set(['node_modules', 'dist', 'generated']);
const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** The code files of a package: its folders above, and config files at its root. */
function codeFiles(dir) {
  const files = readdirSync(dir)
    .filter((name) => CODE.test(name))
    .map((name) => join(dir, name));
  const walk = (folder) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        if (!SKIP.has(name)) walk(path);
      } else if (CODE.test(name)) files.push(path);
    }
  };
  for (const folder of FOLDERS) {
    const path = join(dir, folder);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) walk(path);
  }
  return files;
}

/** `@scope/name` or `name` of a bare specifier; undefined for relative, absolute and built-in ones. */
function packageOf(specifier) {
  if (/^[./]/.test(specifier) || /^[a-z]+:/.test(specifier)) return undefined;
  const name = specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
  return builtinModules.includes(name) ? undefined : name;
}

const packageDirs = workspacePackageDirs(root);
/** The workspace package a path lies in; undefined for the workspace's own files. */
const packageAt = (path) => packageDirs.find((dir) => path.startsWith(dir + sep));
const problems = [];
for (const dir of packageDirs) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.devDependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  for (const file of codeFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    // Files reached as `new URL('../…', import.meta.url)` (data, a built binary) count too.
    for (const [, path] of text.matchAll(/new URL\(\s*'(\.\.?\/[^']*)',\s*import\.meta\.url/g)) {
      const other = packageAt(resolve(dirname(file), path));
      if (other !== undefined && other !== dir) {
        problems.push(
          `${relative(root, file)} reads ${path}, a file of ${relative(root, other)}: resolve it through its package`,
        );
      }
    }
    const { importedFiles } = ts.preProcessFile(text, true, true);
    for (const { fileName } of importedFiles) {
      const other = fileName.startsWith('.')
        ? packageAt(resolve(dirname(file), fileName))
        : undefined;
      if (other !== undefined && other !== dir) {
        problems.push(
          `${relative(root, file)} imports ${fileName}, a file of ${relative(root, other)}: import it by its package name`,
        );
        continue;
      }
      const name = packageOf(fileName);
      if (name !== undefined && !declared.has(name)) {
        problems.push(
          `${relative(root, file)} imports ${name}, which ${manifest.name} does not declare`,
        );
      }
    }
  }
}
if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problems:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(
  `check-imports: every import of ${packageDirs.length} packages is declared and inside its package`,
);
