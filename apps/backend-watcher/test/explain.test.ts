import { describe, expect, it } from 'vitest';
import { type Explanation, formatExplanation, isBackend } from '../src/explain.js';

const base = { name: 'github', namespace: 'tools', group: 'engineering' };
const failing = {
  name: 'github',
  served: true,
  lastResolvedAt: Date.UTC(2026, 10, 29, 18, 40, 12),
  failingSince: Date.UTC(2026, 10, 29, 18, 52, 40),
  cause: 'MCPExternalAuthConfig tools/gh: Secret tools/gh-token could not be read (ECONNREFUSED)',
  attempts: 4,
};

describe('formatExplanation', () => {
  it.each([
    ['discovered', 'auth: its own, from its externalAuthConfigRef'],
    [
      'outgoingAuth.backends.github',
      'auth: outgoingAuth.backends.github of the vMCP config (--config)',
    ],
    ['none', 'auth: none'],
  ])('says where a backend’s auth comes from (%s)', (authSource, line) => {
    const text = formatExplanation({
      ...base,
      decision: { action: 'upsert', kind: 'MCPServer', changed: false, shadowed: [] },
      backend: { id: 'github' },
      authSource,
    });
    expect(text.split('\n')[1]).toBe(`  ${line}`);
  });

  it('says a kept backend is kept, when it was last resolved, and why reads fail', () => {
    const explanation: Explanation = {
      ...base,
      decision: {
        action: 'keep-and-retry',
        kind: 'MCPServer',
        error: { message: failing.cause },
        shadowed: [],
      },
      detail: failing.cause,
      failing,
    };
    const text = formatExplanation(explanation);
    expect(text).toContain('MCPServer tools/github: cannot be resolved now');
    expect(text).toContain(
      `kept: last resolved at 2026-11-29T18:40:12.000Z, read failing: ${failing.cause} (since 2026-11-29T18:52:40.000Z, 4 attempts)`,
    );
    expect(isBackend(explanation)).toBe(true);
  });

  it('says a name not yet served stays unserved while its reads fail', () => {
    const explanation: Explanation = {
      ...base,
      decision: {
        action: 'keep-and-retry',
        kind: 'MCPServer',
        error: { message: 'x' },
        shadowed: [],
      },
      detail: 'x',
      failing: { ...failing, served: false, lastResolvedAt: undefined },
    };
    expect(formatExplanation(explanation)).toContain(
      'not served: read failing since 2026-11-29T18:52:40.000Z',
    );
    expect(isBackend(explanation)).toBe(false);
  });

  it('points to --sidecar when it read the cluster itself and a read failed for now', () => {
    const text = formatExplanation({
      ...base,
      decision: {
        action: 'keep-and-retry',
        kind: undefined,
        error: { message: 'x' },
        shadowed: [],
      },
      detail: 'MCPServer tools/github could not be read (ECONNREFUSED)',
    });
    expect(text).toContain('workload tools/github: cannot be resolved now');
    expect(text).toContain('ask it with --sidecar URL');
  });
});
