import { existsSync } from 'node:fs';
import { runExample } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';

describe('the README quick start, run', () => {
  it("prints the server's URL, its kubeconfig's path and that the KubeConfig points at it, then closes", async () => {
    const example = runExample(new URL('../examples/quick-start.ts', import.meta.url));
    expect(await example.exited).toEqual({ code: 0, signal: null });
    const lines = example.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      expect.stringMatching(/\/vmcp-fake-apiserver-[^/]+\/kubeconfig$/),
      'true',
    ]);
    // `await using` closed it: its files are gone.
    expect(existsSync(lines[1] ?? '')).toBe(false);
  });
});
