import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/process.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('the vmcp-backend-watcher binary', () => {
  it('prints the usage for --help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: vmcp-backend-watcher --group NAME/);
    expect(result.stdout).toContain('VMCP_GROUP');
  });

  it('prints its version for --version and exits 0', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `vmcp-backend-watcher ${pkg.version}\n` });
  });

  it.each([
    [['--group', 'g', '--bogus'], 'unknown option --bogus'],
    [['--namespace', 'x'], '--group (or VMCP_GROUP) is required'],
    [
      ['--group', 'g', '--kubeconfig', '/nonexistent/kubeconfig'],
      'cannot read kubeconfig /nonexistent/kubeconfig: ENOENT',
    ],
    [['--group', 'g', '--listen', 'everywhere'], '--listen "everywhere" is not HOST:PORT'],
  ])('exits 2 with one line on stderr for %j', async (argv, message) => {
    const result = await runCli(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
