import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const source = fileURLToPath(new URL('../src/prom-client.ts', import.meta.url));

// In a fresh Node process: which modules are loaded is process-wide state, and this worker may
// hold prom-client already.
const probe = `
const { loadPromClient } = await import(${JSON.stringify(source)});
const files = () => Object.keys(require.cache).filter((f) => f.includes('/prom-client/') || f.includes('@opentelemetry'));
const parts = loadPromClient();
const loadedAlone = files().map((f) => f.replace(/.*prom-client\\//, ''));
const clusterAlone = process.moduleLoadList.includes('NativeModule cluster');
const whole = require('prom-client');
const registry = new whole.Registry();
new parts.Counter({ name: 'made_from_parts_total', help: 'h', registers: [registry] }).inc(2);
console.log(JSON.stringify({
  loadedAlone,
  clusterAlone,
  same: ['Registry', 'Counter', 'Gauge', 'Histogram'].every((name) => parts[name] === whole[name]),
  again: loadPromClient() === parts,
  text: await registry.metrics(),
}));
`;

describe('loadPromClient', () => {
  it("gives prom-client's own four classes, without loading the rest of the package", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=commonjs',
      '-e',
      `(async () => {${probe}})()`,
    ]);
    const result = JSON.parse(stdout);
    expect(result.loadedAlone.sort()).toEqual(
      [
        'lib/counter.js',
        'lib/exemplar.js',
        'lib/gauge.js',
        'lib/histogram.js',
        'lib/metric.js',
        'lib/registry.js',
        'lib/util.js',
        'lib/validation.js',
      ].sort(),
    );
    expect(result.clusterAlone).toBe(false);
    expect(result.same).toBe(true);
    expect(result.again).toBe(true);
    expect(result.text).toContain('made_from_parts_total 2');
  });
});
