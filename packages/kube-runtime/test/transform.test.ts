import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dropApplyMetadata,
  dropManagedFields,
  keepIdentity,
  LAST_APPLIED_ANNOTATION,
  type Transform,
} from '../src/transform.js';
import type { KubeObject } from '../src/types.js';

const applied: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'ca',
    namespace: 'tools',
    uid: 'u1',
    resourceVersion: '7',
    labels: { team: 'tools' },
    annotations: { [LAST_APPLIED_ANNOTATION]: '{"data":{"x":"1"}}', 'example.com/a': 'b' },
    managedFields: [{ manager: 'kubectl-client-side-apply' }],
  },
  data: { x: '1' },
};

describe('transforms', () => {
  it.each([
    [
      'dropManagedFields',
      dropManagedFields,
      {
        ...applied,
        metadata: { ...applied.metadata, managedFields: undefined },
      },
    ],
    [
      'dropApplyMetadata',
      dropApplyMetadata,
      {
        ...applied,
        metadata: {
          ...applied.metadata,
          managedFields: undefined,
          annotations: { 'example.com/a': 'b' },
        },
      },
    ],
    [
      'keepIdentity',
      keepIdentity,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ca', namespace: 'tools', uid: 'u1', resourceVersion: '7' },
      },
    ],
  ] as [string, Transform, KubeObject][])(
    '%s keeps what it promises',
    (_name, transform, expected) => {
      const { managedFields: _dropped, ...expectedMetadata } = expected.metadata;
      expect(transform(applied)).toEqual({
        ...expected,
        metadata:
          expected.metadata.managedFields === undefined ? expectedMetadata : expected.metadata,
      });
    },
  );

  it('keepIdentity leaves out what an object does not have', () => {
    expect(keepIdentity({ metadata: { name: 'n' } })).toEqual({ metadata: { name: 'n' } });
  });

  // The contract of a transform (see Transform): pure (the argument is unchanged, the result
  // depends on it alone), idempotent, and the identity is kept.
  const annotations = fc.dictionary(
    fc.oneof(
      fc.constant(LAST_APPLIED_ANNOTATION),
      fc.constant('kubectl.kubernetes.io/x'),
      fc.string(),
    ),
    fc.string(),
  );
  const objects = fc.record(
    {
      apiVersion: fc.string(),
      kind: fc.string(),
      metadata: fc.record(
        {
          name: fc.string(),
          namespace: fc.string(),
          uid: fc.uuid(),
          resourceVersion: fc.nat().map(String),
          labels: fc.dictionary(fc.string(), fc.string()),
          annotations,
          managedFields: fc.array(fc.record({ manager: fc.string() })),
        },
        { requiredKeys: ['name'] },
      ),
      spec: fc.jsonValue(),
    },
    { requiredKeys: ['metadata'] },
  ) as fc.Arbitrary<KubeObject>;

  it.each([
    ['dropManagedFields', dropManagedFields],
    ['dropApplyMetadata', dropApplyMetadata],
    ['keepIdentity', keepIdentity],
  ] as [string, Transform][])(
    '%s is pure, idempotent and keeps the identity',
    (_name, transform) => {
      fc.assert(
        fc.property(objects, (object) => {
          const before = structuredClone(object);
          const once = transform(object);
          expect(object).toEqual(before);
          expect(transform(structuredClone(object))).toEqual(once);
          expect(transform(once)).toEqual(once);
          for (const field of ['name', 'namespace', 'uid', 'resourceVersion'] as const) {
            expect(once.metadata[field]).toBe(object.metadata[field]);
          }
          expect(once.metadata).not.toHaveProperty('managedFields');
        }),
      );
    },
  );

  it('dropApplyMetadata drops the last-applied annotation and no other', () => {
    fc.assert(
      fc.property(objects, (object) => {
        const kept = { ...object.metadata.annotations };
        delete kept[LAST_APPLIED_ANNOTATION];
        const result = dropApplyMetadata(object).metadata.annotations;
        expect(result ?? {}).toEqual(object.metadata.annotations === undefined ? {} : kept);
      }),
    );
  });
});
