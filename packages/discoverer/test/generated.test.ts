import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, generatedDirectory } from '../scripts/generate-types.js';

describe('generated CRD types', () => {
  it('match what the generator makes from the CRDs (run `pnpm --filter @vmcp/discoverer generate`)', () => {
    const expected = generate();
    const committed = readdirSync(generatedDirectory).filter((name) =>
      name.endsWith('.generated.ts'),
    );
    expect(committed.sort()).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) {
      expect(readFileSync(`${generatedDirectory}/${name}`, 'utf8'), `${name} is stale`).toBe(text);
    }
  });

  it('cover the five kinds in both versions', () => {
    const all = [...generate().values()].join('\n');
    for (const kind of [
      'MCPServer',
      'MCPRemoteProxy',
      'MCPServerEntry',
      'MCPExternalAuthConfig',
      'MCPGroup',
    ]) {
      expect(all).toContain(`export interface ${kind} {`);
      expect(all).toMatch(new RegExp(`export (interface|type) ${kind}V1alpha1`));
    }
  });
});
