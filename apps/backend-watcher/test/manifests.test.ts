import type { KubeObject } from '@vmcp/kube-runtime';
import { describe, expect, it } from 'vitest';
import { resourceOf } from '../src/manifests.js';

describe('resourceOf', () => {
  it('knows the kinds the examples use', () => {
    expect(resourceOf({ apiVersion: 'v1', kind: 'Secret' } as KubeObject)).toMatchObject({
      group: '',
      version: 'v1',
      plural: 'secrets',
    });
  });

  it.each(Object.getOwnPropertyNames(Object.prototype))(
    'refuses a kind named like an Object.prototype member (%s) with a clear error',
    (kind) => {
      expect(() => resourceOf({ apiVersion: 'v1', kind } as KubeObject)).toThrow(
        `no resource known for v1 ${kind}`,
      );
    },
  );
});
