import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand, readSecretFile, UsageError } from '../src/flags.js';

const LISTEN = ['--listen', '127.0.0.1:0'];

describe('parseCommand', () => {
  it('reads the sidecar form', () => {
    expect(
      parseCommand([
        '--registry',
        'http://127.0.0.1:8080',
        '--token-file',
        '/run/token',
        ...LISTEN,
      ]),
    ).toEqual({
      command: 'run',
      listen: { host: '127.0.0.1', port: 0 },
      source: { kind: 'sidecar', url: 'http://127.0.0.1:8080/', tokenFile: '/run/token' },
    });
  });

  it('reads the in-process watcher form', () => {
    expect(
      parseCommand([
        '--kubeconfig=/k/config',
        '--group',
        'engineering',
        '--namespace',
        'tools',
        '--listen',
        '[::1]:8090',
      ]),
    ).toEqual({
      command: 'run',
      listen: { host: '::1', port: 8090 },
      source: {
        kind: 'kubernetes',
        kubeconfig: '/k/config',
        group: 'engineering',
        namespace: 'tools',
      },
    });
  });

  it('accepts a group as namespace/name and a host name to listen on', () => {
    const command = parseCommand([
      '--kubeconfig',
      'k',
      '--group',
      'tools/engineering',
      '--namespace',
      'tools',
      '--listen',
      'localhost:1',
    ]);
    expect(command).toMatchObject({
      source: { group: 'tools/engineering' },
      listen: { host: 'localhost' },
    });
  });

  it.each([['--help'], ['-h']])('%s asks for help', (flag) => {
    expect(parseCommand([flag])).toEqual({ command: 'help' });
  });

  it.each([
    [[], '--listen HOST:PORT is required'],
    [LISTEN, 'give --registry URL (a sidecar) or --kubeconfig PATH'],
    [['--registry', 'http://a', '--kubeconfig', 'k', ...LISTEN], 'not both'],
    [['--registry', 'http://a', '--group', 'g', ...LISTEN], '--group goes with --kubeconfig'],
    [
      ['--kubeconfig', 'k', '--token-file', 't', '--group', 'g', '--namespace', 'n', ...LISTEN],
      '--token-file goes with --registry',
    ],
    [['--kubeconfig', 'k', '--namespace', 'n', ...LISTEN], '--group is required'],
    [['--kubeconfig', 'k', '--group', 'g', ...LISTEN], '--namespace is required'],
    [['--registry', 'ftp://a', ...LISTEN], '--registry "ftp://a" is not an http(s) URL'],
    [['--registry', 'not a url', ...LISTEN], 'is not an http(s) URL'],
    [['--registry', 'http://user:pw@a', ...LISTEN], 'must not carry credentials'],
    [['--registry', 'http://a/?watch=1', ...LISTEN], 'must not have a query'],
    [['--registry', 'http://a', '--listen', '127.0.0.1'], 'is not HOST:PORT'],
    [['--registry', 'http://a', '--listen', '127.0.0.1:65536'], 'is not HOST:PORT'],
    [['--registry', 'http://a', '--listen', ':8080'], 'is not HOST:PORT'],
    [['--registry', 'http://a', '--listen', '[nope]:80'], 'is not HOST:PORT'],
    [['--registry', 'http://a', '--listen', 'a_b:80'], 'is not HOST:PORT'],
    [['--registry', 'http://a', '--listen', '1.2.3.4:+80'], 'is not HOST:PORT'],
    [['--registry', 'http://a', '--listen='], 'is not HOST:PORT'],
    [
      ['--registry', 'http://a', ...LISTEN, '--listen', '127.0.0.1:1'],
      '--listen is given more than once',
    ],
    [['--registry', 'http://a', ...LISTEN, 'extra'], 'unexpected argument "extra"'],
    [['--registry', 'http://a', ...LISTEN, '--verbose'], 'unknown option "--verbose"'],
    [['--registry', '--listen', '127.0.0.1:0'], 'option --registry needs a value'],
    [
      ['--registry', 'http://a', '--token-file', '', ...LISTEN],
      '--token-file "" is not a file path',
    ],
    [
      ['--registry', 'http://a', '--token-file', 'a\u0000b', ...LISTEN],
      '"a\\u0000b" is not a file path',
    ],
    [
      ['--kubeconfig', 'k', '--group', 'Eng', '--namespace', 'n', ...LISTEN],
      '--group "Eng" is not',
    ],
    [
      ['--kubeconfig', 'k', '--group', 'a/b/c', '--namespace', 'n', ...LISTEN],
      'is not "name" or "namespace/name"',
    ],
    [
      ['--kubeconfig', 'k', '--group', 'g', '--namespace', 'a.b', ...LISTEN],
      '--namespace "a.b" is not a namespace name',
    ],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });

  it('cuts and escapes a long hostile value in its message', () => {
    const value = `\u001b[31m${'x'.repeat(500)}`;
    const error = catchError(() => parseCommand(['--registry', value, ...LISTEN]));
    expect(error.message).not.toContain('\u001b');
    expect(error.message.length).toBeLessThan(200);
  });

  it('answers any command line with a command or one clean line of usage error', () => {
    const flag = fc.constantFrom(
      '--registry',
      '--token-file',
      '--kubeconfig',
      '--group',
      '--namespace',
      '--listen',
      '--help',
      '-h',
      '--',
      '-x',
      '--nope',
    );
    const word = fc.oneof(
      flag,
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('http://a', '127.0.0.1:0', 'g'),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 10 }), (argv) => {
        try {
          parseCommand(argv);
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          const { message } = error as UsageError;
          expect([...message].some((c) => c < ' ' || c === '\u007f')).toBe(false);
          expect(message.length).toBeLessThan(300);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('readSecretFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-gateway-flags-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('reads one line, trimmed', () => {
    expect(readSecretFile(file('token', '  s3cret-token\n'), '--token-file')).toBe('s3cret-token');
  });

  it.each([
    ['a missing file', join(dir, 'missing'), 'ENOENT'],
    ['an empty file', file('empty', ' \n'), 'is empty'],
    ['two lines', file('two', 'first-secret-line\nsecond-secret-line\n'), 'more than one line'],
  ])('refuses %s without quoting its content', (_, path, message) => {
    const error = catchError(() => readSecretFile(path, '--token-file'));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('secret-line');
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
