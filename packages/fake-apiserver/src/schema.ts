import { ownValue } from './own.js';
import { clone } from './patch.js';

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

/** The fields of a custom resource that are the server's, not its schema's. */
const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * The top level of a custom resource against its schema, as {@link validateAndPrune} checks any
 * object, except that `apiVersion`, `kind` and `metadata` are left to the server and
 * `additionalProperties` is ignored: a field the schema does not name is pruned unless the
 * schema preserves unknown fields. Returns the field errors and the names of the pruned fields
 * (an error of their own under `fieldValidation=Strict`).
 */
export function validateTopLevel(
  object: Record<string, unknown>,
  schema: JsonSchema,
): { errors: FieldError[]; pruned: string[] } {
  const errors: FieldError[] = [];
  const pruned: string[] = [];
  checkObject(object, schema, '', errors, pruned);
  return { errors, pruned };
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function check(value: unknown, schema: JsonSchema, path: string, errors: FieldError[]): void {
  const typeError = wrongType(value, schema, path);
  if (typeError !== undefined || value === null || schema['x-kubernetes-int-or-string']) {
    if (typeError !== undefined) errors.push(typeError);
    return;
  }
  const notSupported = notInEnum(value, schema, path);
  if (notSupported !== undefined) errors.push(notSupported);
  if (typeof value === 'string') checkString(value, schema, path, errors);
  else if (typeof value === 'number') checkNumber(value, schema, path, errors);
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      if (schema.items) check(item, schema.items, `${path}[${i}]`, errors);
    }
  } else if (typeof value === 'object' && !schema['x-kubernetes-embedded-resource']) {
    checkObject(value as Record<string, unknown>, schema, path, errors);
  }
}

/** The error of a value that the schema's enum does not list, if it has one. */
function notInEnum(value: unknown, schema: JsonSchema, path: string): FieldError | undefined {
  if (schema.enum === undefined || schema.enum.some((allowed) => allowed === value)) {
    return undefined;
  }
  const supported = schema.enum.map((v) => JSON.stringify(v)).join(', ');
  return {
    field: path,
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported}`,
  };
}

/**
 * The error of a value whose type the schema does not allow (null unless nullable or untyped,
 * int-or-string, a number where an integer is asked), or undefined when the type fits.
 */
function wrongType(value: unknown, schema: JsonSchema, path: string): FieldError | undefined {
  if (value === null) {
    if (schema.nullable || schema.type === undefined) return undefined;
    return {
      field: path,
      reason: 'FieldValueInvalid',
      message: `Invalid value: "null": ${path} in body must be of type ${schema.type}: "null"`,
    };
  }
  const actual = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    return actual === 'integer' || actual === 'string'
      ? undefined
      : invalid(path, value, `must be of type integer or string: "${actual}"`);
  }
  const expected = schema.type;
  if (expected === undefined || expected === actual) return undefined;
  if (expected === 'number' && actual === 'integer') return undefined;
  return invalid(path, value, `in body must be of type ${expected}: "${actual}"`);
}

function checkString(value: string, schema: JsonSchema, path: string, errors: FieldError[]): void {
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    errors.push(invalid(path, value, `in body should be at least ${schema.minLength} chars long`));
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    errors.push(invalid(path, value, `in body may not be longer than ${schema.maxLength}`));
  }
  if (schema.pattern !== undefined && !safeRegExp(schema.pattern)?.test(value)) {
    errors.push(invalid(path, value, `in body should match '${schema.pattern}'`));
  }
}

function checkNumber(value: number, schema: JsonSchema, path: string, errors: FieldError[]): void {
  if (schema.minimum !== undefined && value < schema.minimum) {
    errors.push(
      invalid(path, value, `in body should be greater than or equal to ${schema.minimum}`),
    );
  }
  if (schema.maximum !== undefined && value > schema.maximum) {
    errors.push(invalid(path, value, `in body should be less than or equal to ${schema.maximum}`));
  }
}

/**
 * Defaults, then checks or prunes every field, then the required ones. `pruned` is given for the
 * top level of a custom resource (see {@link validateTopLevel}), and collects what was pruned.
 */
function checkObject(
  object: Record<string, unknown>,
  schema: JsonSchema,
  path: string,
  errors: FieldError[],
  pruned?: string[],
): void {
  // Structural defaulting, before validation, as the API server does.
  applyDefaults(object, schema.properties ?? {});
  const level = pruned === undefined ? nestedLevel(schema, path) : topLevel(schema);
  for (const key of Object.keys(object)) {
    if (level.skips(key)) continue;
    const property = ownValue(schema.properties, key) ?? level.additional;
    if (property !== undefined) check(object[key], property, level.at(key), errors);
    else if (level.prunes) {
      delete object[key];
      pruned?.push(key);
    }
  }
  for (const key of schema.required ?? []) {
    if (!level.skips(key) && !Object.hasOwn(object, key)) errors.push(required(level.at(key)));
  }
}

/** How {@link checkObject} treats the fields of one object. */
interface Level {
  /** Fields it leaves alone. */
  skips(key: string): boolean;
  /** A field's path in errors. */
  at(key: string): string;
  /** Whether a field the schema does not describe is dropped. */
  prunes: boolean;
  /** The schema of fields `properties` does not name. */
  additional: JsonSchema | undefined;
}

/** An object inside a value: every field, `additionalProperties` honoured. */
const nestedLevel = (schema: JsonSchema, path: string): Level => ({
  skips: () => false,
  at: (key) => `${path}.${key}`,
  prunes: prunesUnknownFields(schema),
  additional:
    typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined,
});

/** The top level of a custom resource: the server's own fields skipped, no additionalProperties. */
const topLevel = (schema: JsonSchema): Level => ({
  skips: (key) => TOP_LEVEL.has(key),
  at: (key) => key,
  prunes: schema['x-kubernetes-preserve-unknown-fields'] !== true,
  additional: undefined,
});

/** Sets each absent property that has a default to a copy of it. */
function applyDefaults(
  object: Record<string, unknown>,
  properties: Record<string, JsonSchema>,
): void {
  for (const [key, property] of Object.entries(properties)) {
    if (!Object.hasOwn(object, key) && property.default !== undefined) {
      object[key] = clone(property.default);
    }
  }
}

/** The error of a required field that is absent. */
function required(field: string): FieldError {
  return { field, reason: 'FieldValueRequired', message: 'Required value' };
}

/**
 * Whether a field the schema does not name is dropped: unless the schema preserves unknown
 * fields or allows any, it is when the schema names properties, and when it is an object schema
 * with neither properties nor additionalProperties (which prunes everything).
 */
function prunesUnknownFields(schema: JsonSchema): boolean {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return false;
  if (schema.properties !== undefined) return schema.additionalProperties !== true;
  return schema.additionalProperties === undefined && schema.type === 'object';
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
