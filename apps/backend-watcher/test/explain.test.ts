import { describe, expect, it } from 'vitest';
import { type Explanation, formatExplanation, isBackend } from '../src/explain.js';

const base = { name: 'github', namespace: 'tools', group: 'engineering' };
const failing = {
  name: 'github',
  served: true,
  lastResolvedAt: Date.UTC(2026, 10, 29, 18, 40, 12),
  failingSince: Date.UTC(2026, 10, 29, 18, 52, 40),
  cause: 'MCPExternalAuthConfig tools/gh: Secret tools/gh-token could not be read (ECONNREFUSED)',
  reason: 'unavailable' as const,
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
      decision: {
        action: 'upsert',
        kind: 'MCPServer',
        changed: false,
        shadowed: [],
        otherGroups: [],
      },
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
        otherGroups: [],
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
        otherGroups: [],
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
        otherGroups: [],
      },
      detail: 'MCPServer tools/github could not be read (ECONNREFUSED)',
    });
    expect(text).toContain('workload tools/github: cannot be resolved now');
    expect(text).toContain('ask it with --sidecar URL');
  });

  it("names a refusal of the watcher's own token or permission", () => {
    const cause =
      'MCPExternalAuthConfig tools/gh: Secret tools/gh-token could not be read (403 Forbidden)';
    const text = formatExplanation({
      ...base,
      decision: {
        action: 'keep-and-retry',
        kind: 'MCPServer',
        error: { message: cause },
        shadowed: [],
        otherGroups: [],
      },
      detail: cause,
      failing: { ...failing, cause, reason: 'forbidden' },
    });
    expect(text).toContain(
      `kept: last resolved at 2026-11-29T18:40:12.000Z, read failing (forbidden): ${cause}`,
    );
  });

  it('says a same-named workload of another group exists and is ignored', () => {
    const text = formatExplanation({
      ...base,
      name: 'docs',
      decision: {
        action: 'upsert',
        kind: 'MCPServerEntry',
        changed: false,
        shadowed: [],
        otherGroups: [
          { kind: 'MCPServer', group: 'sales' },
          { kind: 'MCPRemoteProxy', group: undefined },
        ],
      },
      backend: { id: 'docs' },
    });
    expect(text).toContain('MCPServerEntry tools/docs: a backend of group "engineering"');
    expect(text).toContain(
      '  other groups: MCPServer of group "sales", MCPRemoteProxy of no group named "docs" exist and are ignored; only workloads of group "engineering" count',
    );
  });

  it('does not repeat the only other group of a name it removes for that', () => {
    const text = formatExplanation({
      ...base,
      name: 'docs',
      decision: {
        action: 'remove',
        reason: 'other-group',
        kind: 'MCPServer',
        group: 'sales',
        shadowed: [],
        otherGroups: [{ kind: 'MCPServer', group: 'sales' }],
      },
    });
    expect(text).toBe(
      'MCPServer tools/docs: not a backend of group "engineering": it belongs to group "sales"\n',
    );
  });

  it('says when a sidecar answered from what it holds, and how to ask it afresh', () => {
    const held: Explanation = {
      ...base,
      decision: {
        action: 'upsert',
        kind: 'MCPServer',
        changed: false,
        shadowed: [],
        otherGroups: [],
      },
      source: 'held',
      decidedAt: Date.UTC(2026, 10, 29, 18, 40, 12),
    };
    expect(formatExplanation(held)).toContain(
      'from what the sidecar holds (its last decision, made at 2026-11-29T18:40:12.000Z); with the API token (--api-token-file) it decides afresh',
    );
    const { decidedAt: _, ...fromCaches } = held;
    expect(formatExplanation(fromCaches)).toContain(
      'decided now from its caches, without reading Secrets or ConfigMaps',
    );
    expect(formatExplanation({ ...held, source: 'fresh' })).not.toContain('sidecar holds');
  });
});
