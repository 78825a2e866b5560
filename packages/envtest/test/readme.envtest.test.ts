import { existsSync } from 'node:fs';
import { runExample } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';

describe('the README quick start, run', () => {
  it('prints the admin kubeconfig path, pauses, resumes, restarts, compacts, and leaves nothing behind', async () => {
    const example = runExample(new URL('../examples/quick-start.ts', import.meta.url));
    expect(await example.exited).toEqual({ code: 0, signal: null });
    const lines = example.stdout.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/\/vmcp-envtest-[^/]+\/kubeconfig$/)]);
    expect(existsSync(lines[0] ?? '')).toBe(false);
  });
});
