import { describe, expect, it } from 'vitest';
import { type JsonSchema, validateAndPrune, validateTopLevel } from '../src/schema.js';

const schema: JsonSchema = {
  type: 'object',
  required: ['metadata', 'spec'],
  properties: {
    spec: {
      type: 'object',
      required: ['url'],
      properties: { url: { type: 'string' }, mode: { type: 'string', default: 'sse' } },
      additionalProperties: { type: 'integer' },
    },
  },
  additionalProperties: { type: 'string' },
};
const object = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'example.com/v1',
  kind: 'Thing',
  metadata: { name: 'a' },
  spec: { url: 'http://x', port: 8080 },
  ...extra,
});

describe('validateTopLevel', () => {
  it('leaves apiVersion, kind and metadata to the server and defaults what is absent', () => {
    const value = object();
    expect(validateTopLevel(value, schema)).toEqual({ errors: [], pruned: [] });
    expect(value).toEqual({ ...object(), spec: { url: 'http://x', port: 8080, mode: 'sse' } });
  });

  it('ignores additionalProperties at the top: an unknown field is pruned, not validated', () => {
    const value = object({ extra: 5 });
    expect(validateTopLevel(value, schema)).toEqual({ errors: [], pruned: ['extra'] });
    expect(value).not.toHaveProperty('extra');
  });

  it('keeps unknown top-level fields the schema preserves', () => {
    const value = object({ extra: 5 });
    const preserving = { ...schema, 'x-kubernetes-preserve-unknown-fields': true };
    expect(validateTopLevel(value, preserving).pruned).toEqual([]);
    expect(value).toHaveProperty('extra', 5);
  });

  it('honours additionalProperties below the top, and names fields by their path', () => {
    const value = object({ spec: { port: 'eighty' } });
    expect(validateTopLevel(value, schema).errors).toEqual([
      expect.objectContaining({ field: 'spec.port', reason: 'FieldValueInvalid' }),
      expect.objectContaining({ field: 'spec.url', reason: 'FieldValueRequired' }),
    ]);
  });

  it('requires top-level fields by name, never the server-owned ones', () => {
    const { spec: _spec, ...withoutSpec } = object();
    expect(validateTopLevel(withoutSpec, schema).errors).toEqual([
      { field: 'spec', reason: 'FieldValueRequired', message: 'Required value' },
    ]);
  });

  it('checks a nested value the same way validateAndPrune does', () => {
    const spec = { url: 7, other: 'x' };
    expect(validateAndPrune(spec, schema.properties?.spec as JsonSchema, 'spec')).toEqual([
      expect.objectContaining({ field: 'spec.url' }),
      expect.objectContaining({ field: 'spec.other' }),
    ]);
  });
});
