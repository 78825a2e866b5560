import { runExample } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';

describe('the README quick start, run', () => {
  it('prints what the README says: the version and names, then the removal from the feed', async () => {
    const example = runExample(new URL('../examples/quick-start.ts', import.meta.url));
    expect(await example.exited).toEqual({ code: 0, signal: null });
    expect(example.stdout).toBe("1 [ 'fetch' ]\n2 0 1\n");
  });
});
