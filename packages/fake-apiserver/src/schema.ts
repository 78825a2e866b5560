import { ownValue } from './own.js';

/** The part of a CRD's OpenAPI v3 schema that structural validation and pruning use. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  nullable?: boolean;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  default?: unknown;
}

/** One field error, in the API server's `causes` shape. */
export interface FieldError {
  field: string;
  reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported';
  message: string;
}

/**
 * Validates and prunes a value in place as a structural schema does: unknown fields are dropped
 * (unless `x-kubernetes-preserve-unknown-fields`), then types, `required`, `enum`, bounds and
 * patterns are checked. Returns the field errors (empty when valid).
 */
export function validateAndPrune(value: unknown, schema: JsonSchema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  check(value, schema, path, errors);
  return errors;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function check(value: unknown, schema: JsonSchema, path: string, errors: FieldError[]): void {
  if (value === null) {
    if (!schema.nullable && schema.type !== undefined) {
      errors.push({
        field: path,
        reason: 'FieldValueInvalid',
        message: `Invalid value: "null": ${path} in body must be of type ${schema.type}: "null"`,
      });
    }
    return;
  }
  const actual = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string') {
      errors.push(invalid(path, value, `must be of type integer or string: "${actual}"`));
    }
    return;
  }
  const expected = schema.type;
  if (expected !== undefined) {
    const ok =
      expected === actual ||
      (expected === 'number' && actual === 'integer') ||
      (expected === 'object' && actual === 'object');
    if (!ok) {
      errors.push(invalid(path, value, `in body must be of type ${expected}: "${actual}"`));
      return;
    }
  }
  if (schema.enum !== undefined && !schema.enum.some((allowed) => allowed === value)) {
    errors.push({
      field: path,
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`,
    });
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      errors.push(
        invalid(path, value, `in body should be at least ${schema.minLength} chars long`),
      );
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      errors.push(invalid(path, value, `in body may not be longer than ${schema.maxLength}`));
    }
    if (schema.pattern !== undefined && !safeRegExp(schema.pattern)?.test(value)) {
      errors.push(invalid(path, value, `in body should match '${schema.pattern}'`));
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) {
      errors.push(
        invalid(path, value, `in body should be greater than or equal to ${schema.minimum}`),
      );
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      errors.push(
        invalid(path, value, `in body should be less than or equal to ${schema.maximum}`),
      );
    }
  }
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items) for (const [i, item] of value.entries()) check(item, items, `${path}[${i}]`, errors);
    return;
  }
  if (actual !== 'object') return;
  const object = value as Record<string, unknown>;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema['x-kubernetes-embedded-resource']) return;
  // Structural defaulting, before validation, as the API server does.
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (!Object.hasOwn(object, key) && property.default !== undefined) {
      object[key] = JSON.parse(JSON.stringify(property.default));
    }
  }
  for (const key of Object.keys(object)) {
    const property = ownValue(schema.properties, key);
    if (property !== undefined) check(object[key], property, `${path}.${key}`, errors);
    else if (typeof schema.additionalProperties === 'object') {
      check(object[key], schema.additionalProperties, `${path}.${key}`, errors);
    } else if (
      !preserve &&
      schema.additionalProperties !== true &&
      schema.properties !== undefined
    ) {
      delete object[key];
    } else if (
      !preserve &&
      schema.additionalProperties === undefined &&
      schema.properties === undefined &&
      schema.type === 'object'
    ) {
      // An object schema with neither properties nor additionalProperties prunes everything.
      delete object[key];
    }
  }
  for (const key of schema.required ?? []) {
    if (!Object.hasOwn(object, key)) {
      errors.push({
        field: `${path}.${key}`,
        reason: 'FieldValueRequired',
        message: 'Required value',
      });
    }
  }
}

function invalid(path: string, value: unknown, detail: string): FieldError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return {
    field: path,
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(shown).slice(0, 200)}: ${path} ${detail}`,
  };
}

const patterns = new Map<string, RegExp | undefined>();
function safeRegExp(pattern: string): RegExp | undefined {
  if (!patterns.has(pattern)) {
    try {
      patterns.set(pattern, new RegExp(pattern, 'u'));
    } catch {
      patterns.set(pattern, undefined);
    }
  }
  return patterns.get(pattern);
}
