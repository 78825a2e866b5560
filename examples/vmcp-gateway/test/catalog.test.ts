import { describe, expect, it } from 'vitest';
import { buildCatalog, sameTools } from '../src/catalog.js';
import type { ConnectionState } from '../src/connection-state.js';

const tool = (name: string, description = name) => ({
  name,
  description,
  inputSchema: { type: 'object' as const, properties: { text: { type: 'string' } } },
});
const connected = (...names: string[]): ConnectionState => ({
  phase: 'connected',
  tools: names.map((name) => tool(name)),
});

describe('buildCatalog', () => {
  const catalog = buildCatalog(
    [
      { id: 'beta', state: connected('whoami', 'echo') },
      { id: 'alpha', state: connected('echo') },
      { id: 'down', state: { phase: 'failed', failures: 1, reason: 'refused', retryInMs: 500 } },
      { id: 'wiki', state: { phase: 'excluded', reason: 'xaa' } },
      { id: 'new', state: { phase: 'connecting', failures: 0 } },
    ],
    42,
  );

  it('serves the tools of connected backends under <backend id>_<tool name>, sorted', () => {
    expect(catalog.tools.map((t) => t.name)).toEqual(['alpha_echo', 'beta_echo', 'beta_whoami']);
    expect(catalog.registryVersion).toBe(42);
  });

  it('keeps each tool definition, renamed', () => {
    expect(catalog.tools[0]).toEqual({ ...tool('echo'), name: 'alpha_echo' });
  });

  it('routes a served name to its backend and original name', () => {
    expect(catalog.route('beta_whoami')).toEqual({ backendId: 'beta', toolName: 'whoami' });
    expect(catalog.route('down_echo')).toBeUndefined();
    expect(catalog.route('whoami')).toBeUndefined();
  });

  it('keeps the first backend of a colliding name and reports it', () => {
    const colliding = buildCatalog(
      [
        { id: 'a', state: connected('b_c') },
        { id: 'a_b', state: connected('c') },
      ],
      1,
    );
    expect(colliding.tools.map((t) => t.name)).toEqual(['a_b_c']);
    expect(colliding.route('a_b_c')).toEqual({ backendId: 'a', toolName: 'b_c' });
    expect(colliding.conflicts).toEqual(['a_b_c']);
  });
});

describe('sameTools', () => {
  const of = (state: ConnectionState, version: number) =>
    buildCatalog([{ id: 'a', state }], version);

  it('ignores the registry version', () => {
    expect(sameTools(of(connected('echo'), 1), of(connected('echo'), 2))).toBe(true);
  });

  it('sees a changed definition, an added and a removed tool', () => {
    const base = of(connected('echo'), 1);
    expect(sameTools(base, of({ phase: 'connected', tools: [tool('echo', 'new text')] }, 1))).toBe(
      false,
    );
    expect(sameTools(base, of(connected('echo', 'time'), 1))).toBe(false);
    expect(sameTools(base, of({ phase: 'closed' }, 1))).toBe(false);
  });
});
