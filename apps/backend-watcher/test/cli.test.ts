import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

describe('--config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-cli-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const planted = 'PLANTED-cli-config-value-3f1e';

  it.each([
    [
      'a source upstream would fall back from',
      'groupRef: g\noutgoingAuth:\n  source: discoverd\n',
      'outgoingAuth.source: unknown source "discoverd"; must be discovered or inline',
    ],
    [
      'an unset variable, named',
      'groupRef: g\noutgoingAuth:\n  default:\n    type: header_injection\n    headerInjection: { headerName: X, headerValueEnv: VMCP_CLI_TEST_UNSET }\n',
      'outgoingAuth.default.headerInjection.headerValueEnv: environment variable VMCP_CLI_TEST_UNSET is not set or empty',
    ],
    [
      'both a value and its variable',
      `groupRef: g\noutgoingAuth:\n  backends:\n    fetch:\n      type: header_injection\n      headerInjection: { headerName: X, headerValue: ${planted}, headerValueEnv: HOME }\n`,
      'outgoingAuth.backends.fetch.headerInjection: set headerValue or headerValueEnv, not both',
    ],
    [
      'a file that is not YAML, without quoting it',
      `outgoingAuth: { default: "${planted}\n`,
      'is not valid YAML or JSON at line',
    ],
  ])('exits 2 naming the file and the path in it for %s', async (_name, text, message) => {
    const path = file('bad.yaml', text);
    const result = await runCli(['--config', path, '--kubeconfig', '/nonexistent']);
    expect(result.code).toBe(2);
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`--config ${path}: ${message}`);
    expect(result.stderr + result.stdout).not.toContain(planted);
  });

  it('exits 2 when neither --group nor the file names a group', async () => {
    const path = file('no-group.yaml', 'outgoingAuth:\n  source: discovered\n');
    const result = await runCli([], { VMCP_CONFIG: path });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--group (or VMCP_GROUP) is required: ${path} has no groupRef`);
  });

  it('takes the group from the file: the next problem is the kubeconfig, not the group', async () => {
    const path = file('group.yaml', 'groupRef: engineering\n');
    const result = await runCli(['--config', path, '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read kubeconfig /nonexistent/kubeconfig: ENOENT');
  });
});
