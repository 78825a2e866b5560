import { runExample } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';

describe('the README quick start, run', () => {
  it('prints the backend, the skip and its reason, then what discover found', async () => {
    const example = runExample(new URL('../examples/quick-start.ts', import.meta.url));
    expect(await example.exited).toEqual({ code: 0, signal: null });
    expect(example.stdout.trim().split('\n')).toEqual([
      'fetch http://fetch.tools.svc.cluster.local:8080',
      'pending no-url',
      '1 of 2 workloads of the group are backends',
    ]);
  });
});
