import { fileURLToPath } from 'node:url';
import { CliProcess } from './process.js';

/**
 * A README example of a package (its `examples/<name>.ts`) run as a program, as a reader runs it:
 * a child process through tsx, with the workspace's packages resolved to their sources (the
 * `@vmcp/source` condition), in the package's folder, with `env` added to the environment.
 *
 * @example
 * const example = runExample(new URL('../examples/quick-start.ts', import.meta.url), { KUBECONFIG });
 * await example.waitForOutput(/synced/);
 * example.kill('SIGTERM');
 * expect(await example.exited).toEqual({ code: 0, signal: null });
 */
export function runExample(file: URL, env: Record<string, string | undefined> = {}): CliProcess {
  const path = fileURLToPath(file);
  return new CliProcess([], env, {
    cli: path,
    cwd: fileURLToPath(new URL('..', file)),
    nodeArgs: ['--conditions=@vmcp/source', '--import', 'tsx', '--no-warnings'],
  });
}
