import { runExample } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';

describe('the README quick start, run', () => {
  it('prints the name of each of the five CRDs, mcpexternalauthconfigs first', async () => {
    const example = runExample(new URL('../examples/quick-start.ts', import.meta.url));
    expect(await example.exited).toEqual({ code: 0, signal: null });
    expect(example.stdout.trim().split('\n')).toEqual([
      'mcpexternalauthconfigs.toolhive.stacklok.dev',
      'mcpgroups.toolhive.stacklok.dev',
      'mcpremoteproxies.toolhive.stacklok.dev',
      'mcpserverentries.toolhive.stacklok.dev',
      'mcpservers.toolhive.stacklok.dev',
    ]);
  });
});
