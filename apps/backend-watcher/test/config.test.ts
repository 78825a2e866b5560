import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@vmcp/kube-runtime';
import { describe, expect, it } from 'vitest';
import { TokenCheck } from '../src/auth.js';
import {
  FLAG_RANGES,
  fallbackNamespace,
  parseCommand,
  parseDuration,
  parseListen,
  readTokenFile,
  UsageError,
} from '../src/config.js';
import { loadKubeConfig } from '../src/kubeconfig.js';

const run = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseCommand(argv, env);
  if (command.command !== 'run') throw new Error(`expected run, got ${command.command}`);
  return command.config;
};
const usageError = (argv: string[], env: Record<string, string> = {}): string => {
  try {
    parseCommand(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
};

describe('command line', () => {
  it('reads every flag', () => {
    expect(
      run([
        '--group',
        'engineering',
        '--namespace',
        'tools',
        '--kubeconfig',
        '/k',
        '--listen',
        '0.0.0.0:9090',
        '--api-token-file',
        '/t',
        '--log-level',
        'debug',
        '--resync-period',
        '5m',
        '--read-timeout',
        '2s',
        '--workers',
        '8',
        '--grace-period',
        '20s',
        '--heartbeat-interval',
        '500ms',
        '--secret-refresh-period',
        '2m',
        '--initial-sync-timeout',
        '45s',
        '--max-streams',
        '50',
        '--config',
        '/etc/vmcp/config.yaml',
      ]),
    ).toEqual({
      group: 'engineering',
      configFile: '/etc/vmcp/config.yaml',
      namespace: 'tools',
      kubeconfig: '/k',
      listen: { host: '0.0.0.0', port: 9090 },
      apiTokenFile: '/t',
      logLevel: 'debug',
      resyncPeriodMs: 300_000,
      readTimeoutMs: 2_000,
      workers: 8,
      gracePeriodMs: 20_000,
      sidecarUrl: undefined,
      heartbeatMs: 500,
      secretRefreshPeriodMs: 120_000,
      initialSyncTimeoutMs: 45_000,
      maxStreams: 50,
    });
  });

  it('reads each setting from its environment variable when the flag is absent', () => {
    expect(
      run([], {
        VMCP_GROUP: 'g',
        VMCP_NAMESPACE: 'ns',
        KUBECONFIG: '/k',
        VMCP_LISTEN: ':8081',
        VMCP_API_TOKEN_FILE: '/t',
        VMCP_LOG_LEVEL: 'warn',
        VMCP_RESYNC_PERIOD: '90s',
        VMCP_READ_TIMEOUT: '1500ms',
        VMCP_WORKERS: '2',
        VMCP_HEARTBEAT_INTERVAL: '2s',
        VMCP_SECRET_REFRESH_PERIOD: '30s',
        VMCP_INITIAL_SYNC_TIMEOUT: '10s',
        VMCP_MAX_STREAMS: '100000',
        VMCP_CONFIG: '/c.yaml',
      }),
    ).toMatchObject({
      secretRefreshPeriodMs: 30_000,
      initialSyncTimeoutMs: 10_000,
      configFile: '/c.yaml',
      readTimeoutMs: 1_500,
      workers: 2,
      group: 'g',
      namespace: 'ns',
      kubeconfig: '/k',
      listen: { host: '0.0.0.0', port: 8081 },
      apiTokenFile: '/t',
      logLevel: 'warn',
      resyncPeriodMs: 90_000,
      heartbeatMs: 2_000,
      maxStreams: 100_000,
    });
  });

  it('prefers the flag over the environment variable', () => {
    expect(run(['--group', 'flag'], { VMCP_GROUP: 'env' }).group).toBe('flag');
  });

  it("defaults: loopback 8080, level info, upstream's 10 h resync, 5 s reads, 4 workers, 15 s heartbeats, namespace left to the fallbacks", () => {
    expect(run(['--group', 'g'])).toMatchObject({
      listen: { host: '127.0.0.1', port: 8080 },
      logLevel: 'info',
      resyncPeriodMs: 36_000_000,
      readTimeoutMs: 5_000,
      workers: 4,
      heartbeatMs: 15_000,
      maxStreams: 1000,
      namespace: undefined,
      secretRefreshPeriodMs: 60_000,
      initialSyncTimeoutMs: 30_000,
    });
  });

  it('refuses a resync period of 9000h naming the flag, the value and the limit', () => {
    expect(usageError(['--group', 'g', '--resync-period', '9000h'])).toBe(
      '--resync-period "9000h" is above the maximum of 720h',
    );
    expect(usageError(['--group', 'g'], { VMCP_RESYNC_PERIOD: '1'.repeat(400) })).toMatch(
      /^--resync-period "1+" is above the maximum of 720h$/,
    );
  });

  it('turns the secret refresh off with --secret-refresh-period 0, and takes each limit itself', () => {
    expect(run(['--group', 'g', '--secret-refresh-period', '0']).secretRefreshPeriodMs).toBe(0);
    expect(run(['--group', 'g'], { VMCP_SECRET_REFRESH_PERIOD: '0s' }).secretRefreshPeriodMs).toBe(
      0,
    );
    expect(run(['--group', 'g', '--secret-refresh-period', '1s']).secretRefreshPeriodMs).toBe(
      1_000,
    );
    expect(run(['--group', 'g', '--secret-refresh-period', '720h']).secretRefreshPeriodMs).toBe(
      2_592_000_000,
    );
    expect(run(['--group', 'g', '--initial-sync-timeout', '1s']).initialSyncTimeoutMs).toBe(1_000);
    expect(run(['--group', 'g', '--initial-sync-timeout', '1h']).initialSyncTimeoutMs).toBe(
      3_600_000,
    );
  });

  it('refuses a VMCP_MAX_STREAMS that is not a whole number from 1 to 100000', () => {
    expect(usageError(['--group', 'g'], { VMCP_MAX_STREAMS: '-5' })).toMatch(
      /^--max-streams "-5" is not a whole number from 1 to 100000$/,
    );
  });

  it('turns the resync off with --resync-period 0', () => {
    expect(run(['--group', 'g', '--resync-period', '0']).resyncPeriodMs).toBe(0);
    expect(run(['--group', 'g'], { VMCP_RESYNC_PERIOD: '0s' }).resyncPeriodMs).toBe(0);
  });

  it('takes --sidecar for explain only', () => {
    expect(
      parseCommand(['explain', 'gh', '--group', 'g', '--sidecar', 'http://127.0.0.1:8080'], {}),
    ).toMatchObject({ command: 'explain', config: { sidecarUrl: 'http://127.0.0.1:8080' } });
  });

  it('falls back to POD_NAMESPACE when neither flag nor VMCP_NAMESPACE is set', () => {
    expect(run(['--group', 'g'], { POD_NAMESPACE: 'pod-ns' }).namespace).toBe('pod-ns');
    expect(run(['--group', 'g'], { POD_NAMESPACE: 'pod-ns', VMCP_NAMESPACE: 'v' }).namespace).toBe(
      'v',
    );
  });

  it('leaves the group to the --config file when no flag or variable names it', () => {
    expect(run(['--config', '/etc/vmcp/config.yaml'])).toMatchObject({
      group: undefined,
      configFile: '/etc/vmcp/config.yaml',
    });
    expect(run([], { VMCP_CONFIG: '/c.yaml', VMCP_GROUP: 'g' })).toMatchObject({
      group: 'g',
      configFile: '/c.yaml',
    });
  });

  it('accepts namespace/name group references', () => {
    expect(run(['--group', 'tools/engineering']).group).toBe('tools/engineering');
  });

  it('parses help, version and the subcommands', () => {
    expect(parseCommand(['--help'], {})).toEqual({ command: 'help' });
    expect(parseCommand(['-v'], {})).toEqual({ command: 'version' });
    expect(parseCommand(['explain', 'github', '--group', 'g'], {})).toMatchObject({
      command: 'explain',
      name: 'github',
    });
    expect(parseCommand(['demo'], {})).toMatchObject({ command: 'demo' });
  });

  it.each([
    [['--bogus'], /^unknown option --bogus$/],
    [['--group'], /^option --group needs a value$/],
    [[], /--group \(or VMCP_GROUP\) is required/],
    [['--group', 'Bad_Group'], /is not "name" or "namespace\/name"/],
    [['--group', 'g', '--namespace', 'NS!'], /is not a valid namespace name/],
    [['--group', 'g', '--listen', 'nope'], /is not HOST:PORT/],
    [['--group', 'g', '--listen', '127.0.0.1:70000'], /is not HOST:PORT/],
    [['--group', 'g', '--log-level', 'loud'], /is not one of trace/],
    [['--group', 'g', '--resync-period', '5 minutes'], /is not a duration/],
    [['--group', 'g', '--resync-period', '5x'], /is not a duration/],
    [['--group', 'g', '--read-timeout', '0s'], /^--read-timeout "0s" is below the minimum of 1ms/],
    [['--group', 'g', '--workers', '0'], /--workers "0" is not a whole number from 1 to 64/],
    [['--group', 'g', '--workers', 'many'], /is not a whole number from 1 to 64/],
    [
      ['--group', 'g', '--max-streams', '0'],
      /--max-streams "0" is not a whole number from 1 to 100000/,
    ],
    [
      ['--group', 'g', '--max-streams', '100001'],
      /--max-streams "100001" is not a whole number from 1 to 100000/,
    ],
    [['--group', 'g', '--max-streams', '1e3'], /--max-streams "1e3" is not a whole number/],
    [['--group', 'g', '--sidecar', 'http://x'], /--sidecar is an explain option/],
    [['explain', 'x', '--group', 'g', '--sidecar', 'ftp://x'], /is not an http\(s\) URL/],
    [['frobnicate', '--group', 'g'], /unknown command "frobnicate"/],
    [['explain', '--group', 'g'], /explain needs a resource name/],
    [['--group', 'g', 'extra'], /unknown command "extra"/],
    [['--group', 'g', '--examples', 'x'], /--examples is a demo option/],
    [
      ['--group', 'g', '--secret-refresh-period', '999ms'],
      /^--secret-refresh-period "999ms" is below the minimum of 1s; 0 turns it off$/,
    ],
    [
      ['--group', 'g', '--secret-refresh-period', '721h'],
      /^--secret-refresh-period "721h" is above the maximum of 720h$/,
    ],
    [['--group', 'g', '--secret-refresh-period=-1s'], /is not a duration/],
    [['--group', 'g', '--secret-refresh-period', 'soon'], /is not a duration/],
    [
      ['--group', 'g', '--initial-sync-timeout', '0'],
      /^--initial-sync-timeout "0" is below the minimum of 1s$/,
    ],
    [
      ['--group', 'g', '--initial-sync-timeout', '500ms'],
      /^--initial-sync-timeout "500ms" is below the minimum of 1s$/,
    ],
    [
      ['--group', 'g', '--initial-sync-timeout', '61m'],
      /^--initial-sync-timeout "61m" is above the maximum of 1h$/,
    ],
  ])('rejects %j with one clear line', (argv, message) => {
    const text = usageError(argv);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });
});

const FLAGS = [
  ['resync-period', 'VMCP_RESYNC_PERIOD', 'resyncPeriodMs'],
  ['read-timeout', 'VMCP_READ_TIMEOUT', 'readTimeoutMs'],
  ['secret-refresh-period', 'VMCP_SECRET_REFRESH_PERIOD', 'secretRefreshPeriodMs'],
  ['initial-sync-timeout', 'VMCP_INITIAL_SYNC_TIMEOUT', 'initialSyncTimeoutMs'],
  ['grace-period', 'VMCP_GRACE_PERIOD', 'gracePeriodMs'],
  ['heartbeat-interval', 'VMCP_HEARTBEAT_INTERVAL', 'heartbeatMs'],
] as const;

describe.each(FLAGS)('--%s (and %s)', (flag, variable, field) => {
  const { min: minMs, max: maxMs } = FLAG_RANGES[flag];
  const outOfRange = [
    ...(minMs > 0 ? [[`${minMs / 2}ms`, 'is below the minimum']] : []),
    [`${maxMs + 1}ms`, 'is above the maximum'],
    ['9000000h', 'is above the maximum'],
  ];

  it('takes the limits of its range, as a flag and as a variable', () => {
    expect(run(['--group', 'g', `--${flag}`, `${minMs}ms`])[field]).toBe(minMs);
    expect(run(['--group', 'g'], { [variable]: `${maxMs}ms` })[field]).toBe(maxMs);
  });

  it.each(outOfRange)(
    'refuses %s with one line: %s, naming the flag and the limit',
    (value, problem) => {
      const text = usageError(['--group', 'g', `--${flag}`, value as string]);
      expect(text).toMatch(
        new RegExp(`^--${flag} "${value}" ${problem} of \\d[\\w.]*(; 0 turns it off)?$`),
      );
      expect(usageError(['--group', 'g'], { [variable]: value as string })).toBe(text);
    },
  );

  it.each(['-5s', 'NaN', 'Infinity', '5 s', '1e3s'])('refuses %j as not a duration', (value) => {
    expect(usageError(['--group', 'g', `--${flag}=${value}`])).toMatch(
      new RegExp(`^--${flag} ".*" is not a duration such as 30s, 5m or 1h$`),
    );
    expect(usageError(['--group', 'g'], { [variable]: value })).toMatch(/is not a duration/);
  });
});

describe('values', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    [':0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
  ])('parses the listen address %s', (value, expected) => {
    expect(parseListen(value)).toEqual(expected);
  });

  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['45', 45_000],
    ['1.5s', 1500],
  ])('parses the duration %s', (value, ms) => {
    expect(parseDuration(value, '--x', { min: 1, max: 3_600_000 * 720 })).toBe(ms);
  });

  it('reads the namespace from the service account file before the kubeconfig context', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-ns-'));
    const file = join(dir, 'namespace');
    writeFileSync(file, 'from-file\n');
    expect(fallbackNamespace('from-context', file)).toBe('from-file');
    expect(fallbackNamespace('from-context', join(dir, 'absent'))).toBe('from-context');
    expect(fallbackNamespace(undefined, join(dir, 'absent'))).toBe('default');
  });

  it('reads the token file trimmed, and refuses a missing or empty one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-token-'));
    writeFileSync(join(dir, 'token'), '  s3cret\n');
    writeFileSync(join(dir, 'empty'), '\n');
    expect(readTokenFile(join(dir, 'token'))).toBe('s3cret');
    expect(() => readTokenFile(join(dir, 'empty'))).toThrow(/is empty/);
    expect(() => readTokenFile(join(dir, 'absent'))).toThrow(/ENOENT/);
  });

  it('says through the logger it is given how client-node was loaded, once per load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-kc-'));
    const path = join(dir, 'config');
    writeFileSync(
      path,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]\n' +
        'users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n' +
        'current-context: x\n',
    );
    const lines: Record<string, unknown>[] = [];
    const logger = {
      ...silentLogger,
      info: (fields: unknown, message?: string) => lines.push({ ...(fields as object), message }),
    };
    const kubeConfig = await loadKubeConfig(path, { logger });
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    await loadKubeConfig(path);
    expect(lines).toEqual([
      expect.objectContaining({ load: expect.stringMatching(/^(slim|full)$/) }),
    ]);
  });

  it('refuses an unreadable or broken kubeconfig with one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-kc-'));
    writeFileSync(join(dir, 'broken'), 'clusters: [ {');
    writeFileSync(join(dir, 'empty'), 'apiVersion: v1\nkind: Config\n');
    await expect(loadKubeConfig(join(dir, 'absent'))).rejects.toThrow(
      /cannot read kubeconfig .*ENOENT/,
    );
    await expect(loadKubeConfig(join(dir, 'broken'))).rejects.toThrow(UsageError);
    await expect(loadKubeConfig(join(dir, 'empty'))).rejects.toThrow(/has no current context/);
    await expect(loadKubeConfig(undefined, { env: { HOME: dir } })).rejects.toThrow(
      /no kubeconfig/,
    );
  });
});

describe('token check', () => {
  it('unlocks secrets only for the exact configured token', () => {
    const check = new TokenCheck('abc');
    expect(check.access('Bearer abc')).toBe('secrets');
    expect(check.access('bearer abc')).toBe('secrets');
    expect(check.access(undefined)).toBe('redacted');
    expect(check.access('Bearer abcd')).toBe('denied');
    expect(check.access('Bearer ab')).toBe('denied');
    expect(check.access('Basic abc')).toBe('denied');
  });

  it('never unlocks secrets without a configured token', () => {
    const check = new TokenCheck(undefined);
    expect(check.enabled).toBe(false);
    expect(check.access('Bearer anything')).toBe('redacted');
  });
});
