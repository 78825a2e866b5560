import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  expectedScenarioAuth,
  SCENARIO_ENV,
  SCENARIO_GROUP,
  vmcpConfigYaml,
} from '@vmcp/test-support';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadVmcpConfig,
  MAX_CONFIG_BYTES,
  parseVmcpConfig,
  VmcpConfigError,
} from '../src/vmcp-config.js';

const dir = mkdtempSync(join(tmpdir(), 'vmcp-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FILE = '/etc/vmcp/config.yaml';
const parse = (text: string, env: Record<string, string> = {}) => parseVmcpConfig(text, FILE, env);

function errorOf(run: () => unknown): VmcpConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VmcpConfigError);
    return error as VmcpConfigError;
  }
  throw new Error('expected a VmcpConfigError');
}

describe('a vMCP config file', () => {
  it('gives groupRef and outgoingAuth of a file in the format upstream documents, ignoring the rest', () => {
    const config = parse(vmcpConfigYaml(), SCENARIO_ENV);
    expect(config.groupRef).toBe(SCENARIO_GROUP);
    expect(config.outgoingAuth?.source).toBe('discovered');
    expect(config.outgoingAuth?.backends.get('fetch')).toMatchObject({
      strategy: expectedScenarioAuth().fetch?.authConfig,
    });
    expect(config.outgoingAuth?.default).toMatchObject({
      strategy: { headerValue: SCENARIO_ENV.VMCP_SCENARIO_DEFAULT_TOKEN },
    });
  });

  it('reads JSON as well (JSON is YAML)', () => {
    const config = parse(
      JSON.stringify({
        groupRef: 'tools',
        outgoingAuth: { source: 'inline', default: { type: 'unauthenticated' } },
        telemetry: { endpoint: 'otel:4317' },
      }),
    );
    expect(config).toMatchObject({ groupRef: 'tools', outgoingAuth: { source: 'inline' } });
  });

  it('has no outgoingAuth when the file has none or a null one (discovered auth only, as upstream)', () => {
    expect(parse('groupRef: g\n').outgoingAuth).toBeUndefined();
    expect(parse('groupRef: g\noutgoingAuth:\n').outgoingAuth).toBeUndefined();
    expect(parse('name: x\n').groupRef).toBeUndefined();
  });

  it('expands anchors and aliases within yaml’s limit (one strategy for several backends)', () => {
    const config = parse(`
outgoingAuth:
  source: inline
  backends:
    a: &shared
      type: header_injection
      headerInjection: { headerName: X-Key, headerValue: shared-value }
    b: *shared
`);
    expect(config.outgoingAuth?.backends.get('b')).toMatchObject({
      strategy: { headerValue: 'shared-value' },
    });
  });

  it.each([
    ['an empty file', '', 'is empty'],
    ['a comment only', '# nothing\n', 'is empty'],
    ['a list', '- a\n- b\n', 'must hold a mapping (the vMCP config), not a single value or a list'],
    ['a single value', 'discovered\n', 'must hold a mapping'],
    [
      'a groupRef that is not a group name',
      'groupRef: Team A\n',
      'groupRef: must be the name of an MCPGroup',
    ],
    [
      'a groupRef that is a mapping',
      'groupRef: { name: g }\n',
      'groupRef: must be the name of an MCPGroup',
    ],
    [
      'duplicate keys',
      'groupRef: a\ngroupRef: b\n',
      'is not valid YAML or JSON at line 2, column 1 (DUPLICATE_KEY)',
    ],
    ['two documents', 'groupRef: a\n---\ngroupRef: b\n', 'is not valid YAML or JSON'],
    [
      'an unknown tag',
      'outgoingAuth: !vault secret/data/x\n',
      'is not valid YAML or JSON at line 1',
    ],
    [
      'a bad strategy, by its path in the file',
      'outgoingAuth:\n  source: discovered\n  default: { type: bearer }\n',
      'outgoingAuth.default.type: unknown strategy type "bearer"',
    ],
    [
      'an unknown source',
      'outgoingAuth:\n  source: auto\n',
      'outgoingAuth.source: unknown source "auto"; must be discovered or inline',
    ],
  ])('refuses %s with a clear error naming the file', (_name, text, problem) => {
    expect(errorOf(() => parse(text)).message).toContain(`${FILE}: ${problem}`);
  });

  it('names an unset variable', () => {
    const text =
      'outgoingAuth:\n  default:\n    type: header_injection\n    headerInjection: { headerName: X, headerValueEnv: VMCP_NOT_SET }\n';
    expect(errorOf(() => parse(text)).message).toBe(
      `${FILE}: outgoingAuth.default.headerInjection.headerValueEnv: environment variable VMCP_NOT_SET is not set or empty`,
    );
  });

  it('never quotes the file in a syntax error (YAML’s own message would show the line)', () => {
    const text = 'outgoingAuth:\n  default:\n    headerValue: "PLANTED-value-never-shown\n';
    const error = errorOf(() => parse(text));
    expect(error.message).toMatch(/is not valid YAML or JSON at line \d+, column \d+ \(\w+\)$/);
    expect(error.message).not.toContain('PLANTED');
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      levels.push(
        `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(9)
          .fill(`*${i === 1 ? 'a' : 'b'.repeat(i - 1)}`)
          .join(',')}]`,
      );
    }
    expect(errorOf(() => parse(levels.join('\n'))).message).toContain('uses too many YAML aliases');
  });

  it('reads a file, and says why one cannot be read', () => {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, 'groupRef: g\n');
    expect(loadVmcpConfig(path, {})).toMatchObject({ path, groupRef: 'g', text: 'groupRef: g\n' });
    expect(errorOf(() => loadVmcpConfig(join(dir, 'missing.yaml'), {})).message).toBe(
      `${join(dir, 'missing.yaml')}: cannot be read (ENOENT)`,
    );
    const large = join(dir, 'large.yaml');
    writeFileSync(large, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    expect(errorOf(() => loadVmcpConfig(large, {})).message).toContain(
      'is larger than 1048576 bytes',
    );
  });

  it('takes any bytes: a config, or a one-line VmcpConfigError and never another exception', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ maxLength: 200 }),
        (bytes, text) => {
          for (const input of [Buffer.from(bytes).toString('utf8'), `outgoingAuth:\n  ${text}`]) {
            try {
              parse(input);
            } catch (error) {
              expect(error).toBeInstanceOf(VmcpConfigError);
              expect((error as Error).message.split('\n')).toHaveLength(1);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
