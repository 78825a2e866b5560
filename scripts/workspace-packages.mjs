// The workspace's package folders, for the scripts of `pnpm verify`: every folder of packages/,
// apps/ and examples/ (pnpm-workspace.yaml's globs) that holds a package.json. A folder without
// one is not a package (a tool's leftovers, an editor's folder).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function workspacePackageDirs(root) {
  return ['packages', 'apps', 'examples'].flatMap((group) =>
    readdirSync(join(root, group))
      .map((name) => join(root, group, name))
      .filter((dir) => existsSync(join(dir, 'package.json'))),
  );
}
