import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A directory laid out as the kubelet lays out a mounted ConfigMap, and updated as it updates
 * one (its atomic writer): the files live in a timestamped directory, `..data` is a symlink to it,
 * and each file name is a symlink through `..data`. An update writes a new timestamped directory,
 * points `..data_tmp` at it, renames that over `..data` (the one atomic step), then removes the
 * old directory. A watcher of the file itself sees nothing; a watcher of the directory sees the
 * rename.
 */
export class ConfigMapMount {
  readonly dir: string;
  #generation = 0;

  /** `dir` must exist (a temporary directory of the test). */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** The path of one file of the mount, as a program is given it. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes the whole content of the ConfigMap (every key), as the kubelet does on a change. */
  write(files: Record<string, string>): void {
    const data = join(this.dir, '..data');
    let previous: string | undefined;
    try {
      previous = readlinkSync(data);
    } catch {
      previous = undefined;
    }
    const next = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${this.#generation++}`;
    mkdirSync(join(this.dir, next));
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(this.dir, next, name), content);
    }
    symlinkSync(next, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), data);
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(join('..data', name), join(this.dir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    if (previous !== undefined) rmSync(join(this.dir, previous), { recursive: true, force: true });
  }
}
