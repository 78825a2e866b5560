import { FakeClock } from '@vmcp/kube-runtime/testing';
import type { Environment } from '@vmcp/reconciler';
import { describe, expect, it } from 'vitest';
import { ConfigReloader, type DirectoryWatch } from '../src/config-reload.js';
import { parseVmcpConfig, type VmcpConfig, VmcpConfigError } from '../src/vmcp-config.js';

const PATH = '/etc/vmcp/config.yaml';
const good = (value: string) =>
  `groupRef: g\noutgoingAuth:\n  source: inline\n  default:\n    type: header_injection\n    headerInjection: { headerName: X-Key, headerValue: ${value} }\n`;
const BAD = 'outgoingAuth:\n  source: sometimes\n';

/** A reloader over a file held in memory, a watch the test fires, and a fake clock. */
function setup(options: { debounceMs?: number } = {}) {
  const clock = new FakeClock();
  const file = { text: good('one') as string | undefined, reads: 0 };
  const applied: VmcpConfig[] = [];
  const logs: { level: string; message: string; fields: unknown }[] = [];
  const log = (level: string) => (fields: unknown, message?: string) =>
    logs.push({ level, fields, message: message ?? '' });
  const logger = {
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    debug: log('debug'),
    trace: log('trace'),
    child: () => logger,
  };
  const watch = { dir: '', fire: () => {}, fail: (_error: Error) => {}, closed: 0, opened: 0 };
  const watchDirectory: DirectoryWatch = (dir, onChange, onError) => {
    watch.dir = dir;
    watch.opened++;
    watch.fire = onChange;
    watch.fail = onError;
    return () => {
      watch.closed++;
    };
  };
  const load = (path: string, env: Environment) => {
    file.reads++;
    if (file.text === undefined) throw new VmcpConfigError(path, 'cannot be read (ENOENT)');
    return parseVmcpConfig(file.text, path, env);
  };
  const reloader = new ConfigReloader({
    initial: parseVmcpConfig(good('one'), PATH, {}),
    apply: (config) => applied.push(config),
    logger,
    env: {},
    clock,
    now: () => 1_700_000_000_000 + clock.now(),
    watchDirectory,
    load,
    ...options,
  });
  reloader.start();
  return { clock, file, applied, logs, watch, reloader };
}

const headerValue = (config: VmcpConfig | undefined) => {
  const configured = config?.outgoingAuth?.default;
  return configured !== undefined &&
    'strategy' in configured &&
    configured.strategy.type === 'header_injection'
    ? configured.strategy.headerValue
    : undefined;
};

describe('ConfigReloader', () => {
  it('watches the directory, not the file (a ConfigMap is swapped through ..data)', () => {
    expect(setup().watch.dir).toBe('/etc/vmcp');
  });

  it('reads a burst of changes once, debounceMs after its first change, and applies a new config', () => {
    const { clock, file, applied, watch } = setup();
    file.text = good('two');
    watch.fire();
    clock.advance(400);
    watch.fire();
    watch.fire();
    expect(file.reads).toBe(0);
    clock.advance(600);
    expect(file.reads).toBe(1);
    expect(applied.map(headerValue)).toEqual(['two']);
    clock.advance(10_000);
    expect(file.reads).toBe(1);
  });

  it('applies nothing when the file did not change (another key of the ConfigMap did)', () => {
    const { clock, file, applied, watch } = setup();
    watch.fire();
    clock.advance(1_000);
    expect(file.reads).toBe(1);
    expect(applied).toEqual([]);
  });

  it('keeps the last good config for a file that does not read well, says why once, and recovers', () => {
    const { clock, file, applied, logs, watch, reloader } = setup();
    file.text = BAD;
    watch.fire();
    clock.advance(1_000);
    expect(applied).toEqual([]);
    expect(reloader.status()).toEqual({
      path: PATH,
      valid: false,
      error: `${PATH}: outgoingAuth.source: unknown source "sometimes"; must be discovered or inline (refused rather than guessed: it decides which credentials each backend gets)`,
      invalidSince: 1_700_000_001_000,
    });
    // The same bad file again: still invalid since the first time, and not logged twice.
    watch.fire();
    clock.advance(1_000);
    expect(reloader.status().invalidSince).toBe(1_700_000_001_000);
    expect(logs.filter((l) => l.level === 'warn')).toHaveLength(1);
    // A missing file is not valid either: nothing served changes for it.
    file.text = undefined;
    watch.fire();
    clock.advance(1_000);
    expect(reloader.status()).toMatchObject({
      valid: false,
      error: `${PATH}: cannot be read (ENOENT)`,
      invalidSince: 1_700_000_001_000,
    });
    file.text = good('three');
    watch.fire();
    clock.advance(1_000);
    expect(reloader.status()).toEqual({ path: PATH, valid: true });
    expect(applied.map(headerValue)).toEqual(['three']);
    expect(logs.at(-1)).toMatchObject({
      message: 'vMCP config reloaded',
      fields: { recovered: true },
    });
  });

  it('takes a config that apply refuses as not valid, and applies the same text again later', () => {
    // apply is the watcher's setOutgoingAuth: it does not throw for a checked config, but if it
    // did, the status must say so instead of claiming the new config is in force.
    let refuse = true;
    const { clock, file, watch, reloader } = setupThrowing(() => refuse);
    file.text = good('two');
    watch.fire();
    clock.advance(1_000);
    expect(reloader.status()).toMatchObject({
      valid: false,
      error: `${PATH}: could not be applied`,
    });
    refuse = false;
    watch.fire();
    clock.advance(1_000);
    expect(reloader.status().valid).toBe(true);
  });

  it('watches again after its watch breaks, then reads the file', () => {
    const { clock, file, applied, watch, logs } = setup();
    watch.fail(Object.assign(new Error('gone'), { code: 'ENOENT' }));
    expect(watch.closed).toBe(1);
    expect(logs.at(-1)).toMatchObject({ level: 'warn', fields: { err: 'ENOENT' } });
    file.text = good('two');
    clock.advance(1_000);
    expect(watch.opened).toBe(2);
    clock.advance(1_000);
    expect(applied.map(headerValue)).toEqual(['two']);
  });

  it('stops: no watch, no pending read, no retry', () => {
    const { clock, file, watch, reloader } = setup();
    watch.fire();
    reloader.stop();
    reloader.stop();
    expect(clock.pendingTimers).toBe(0);
    expect(watch.closed).toBe(1);
    watch.fire();
    clock.advance(5_000);
    expect(file.reads).toBe(0);
  });

  it.each([
    [-1, 'configReloadDebounceMs -1 is below the minimum of 0'],
    [60_001, 'configReloadDebounceMs 60001 is above the maximum of 60000 (1m)'],
    [Number.NaN, 'configReloadDebounceMs NaN is not a finite number of milliseconds'],
    [
      Number.POSITIVE_INFINITY,
      'configReloadDebounceMs Infinity is not a finite number of milliseconds',
    ],
  ])('refuses a debounce of %s', (debounceMs, message) => {
    expect(() => setup({ debounceMs })).toThrow(new RangeError(message));
  });

  it.each([0, 60_000])('accepts a debounce of %s (the limits)', (debounceMs) => {
    const { clock, file, watch } = setup({ debounceMs });
    watch.fire();
    clock.advance(debounceMs);
    expect(file.reads).toBe(1);
  });
});

/** A reloader whose apply throws while `refuse()` is true. */
function setupThrowing(refuse: () => boolean) {
  const clock = new FakeClock();
  const file = { text: good('one') };
  const watch = { fire: () => {} };
  const logger = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, child: () => logger };
  const reloader = new ConfigReloader({
    initial: parseVmcpConfig(good('one'), PATH, {}),
    apply: () => {
      if (refuse()) throw new Error('not now');
    },
    logger,
    env: {},
    clock,
    watchDirectory: (_dir, onChange) => {
      watch.fire = onChange;
      return () => {};
    },
    load: (path, env) => parseVmcpConfig(file.text, path, env),
  });
  reloader.start();
  return { clock, file, watch, reloader };
}
