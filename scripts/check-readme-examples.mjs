// Every TypeScript example in a package README is the text of a file in its examples/ folder,
// which the package's typecheck compiles, so that no README shows code that does not compile.
// An example file may mark the part the README shows with `// #region readme` and
// `// #endregion readme`; what is outside (stand-ins for the reader's own program) stays in the
// file. Run by `pnpm verify`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspacePackageDirs } from './workspace-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const REGION = /^\/\/ #region readme\n([\s\S]*?)^\/\/ #endregion readme$/m;

/** What a README shows of an example file: its readme region, or all of it. */
function shown(text) {
  return (REGION.exec(text)?.[1] ?? text).trim();
}

function tsBlocks(readme) {
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1].trim());
}

const packageDirs = workspacePackageDirs(root);
const problems = [];
let checked = 0;
for (const dir of packageDirs) {
  const readmePath = join(dir, 'README.md');
  if (!existsSync(readmePath)) continue;
  const examplesDir = join(dir, 'examples');
  const examples = existsSync(examplesDir)
    ? readdirSync(examplesDir)
        .filter((name) => name.endsWith('.ts'))
        .map((name) => shown(readFileSync(join(examplesDir, name), 'utf8')))
    : [];
  for (const block of tsBlocks(readFileSync(readmePath, 'utf8'))) {
    checked++;
    if (!examples.includes(block)) {
      problems.push(
        `${relative(root, readmePath)}: the example starting "${block.split('\n')[0]}" is not the text of a file in ${relative(root, examplesDir)}/ (edit the example file, then copy it into the README)`,
      );
    }
  }
}
if (problems.length > 0) {
  console.error(`check-readme-examples:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`check-readme-examples: ${checked} README examples are compiled example files`);
