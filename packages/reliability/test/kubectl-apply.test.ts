import { describe, expect, it } from 'vitest';
import { lastAppliedOf } from '../bench/kubectl-apply.js';

// The benchmarks write kubectl's annotation themselves where kubectl is missing: it must be
// byte for byte what kubectl writes.
describe('the last-applied annotation the cache benchmark writes without kubectl', () => {
  it('is what kubectl 1.32 wrote against kube-apiserver 1.20 for the same manifest', () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'probe-cm', labels: { b: '1', a: '2' } },
      data: { z: '1', 'config.json': 'xx' },
    };
    expect(lastAppliedOf(manifest, 'empty')).toBe(
      '{"apiVersion":"v1","data":{"config.json":"xx","z":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"labels":{"a":"2","b":"1"},"name":"probe-cm","namespace":"empty"}}\n',
    );
  });
});
