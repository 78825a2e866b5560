import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigMapMount } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('ConfigMapMount', () => {
  it('lays files out as the kubelet does, and swaps them by one rename of ..data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcp-mount-'));
    dirs.push(dir);
    const mount = new ConfigMapMount(dir);
    mount.write({ 'config.yaml': 'one' });
    const first = readlinkSync(join(dir, '..data'));
    expect(lstatSync(mount.path('config.yaml')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(mount.path('config.yaml'))).toBe(join('..data', 'config.yaml'));
    expect(readFileSync(mount.path('config.yaml'), 'utf8')).toBe('one');

    mount.write({ 'config.yaml': 'two' });
    expect(readlinkSync(join(dir, '..data'))).not.toBe(first);
    expect(readFileSync(mount.path('config.yaml'), 'utf8')).toBe('two');
    // The old generation is gone, and no temporary link is left behind.
    expect(readdirSync(dir).sort()).toEqual(
      ['..data', 'config.yaml', readlinkSync(join(dir, '..data'))].sort(),
    );
  });
});
