import { InvalidObjectError } from './errors.js';

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The value of one of the record's own keys, or `undefined`. Keys read from an object (a Secret's
 * data key, a ConfigMap key, a phase) are untrusted: `record[key]` would find `Object.prototype`
 * members (`constructor`, `toString`) where the object has no such key.
 */
export function ownValue<T>(
  record: Readonly<Record<string, T>> | undefined,
  key: string,
): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Sets one own key of a record, whatever the key: `record[key] = value` would set the prototype for
 * `__proto__` (a key JSON can carry, and a Secret or header name can be) instead of the key.
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(record, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else record[key] = value;
}

/** Dotted paths split once: conversion reads the same few paths of every object. */
const splitPaths = new Map<string, readonly string[]>();
const SPLIT_PATHS_LIMIT = 1024;

function partsOf(path: string): readonly string[] {
  let parts = splitPaths.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    if (splitPaths.size < SPLIT_PATHS_LIMIT) splitPaths.set(path, parts);
  }
  return parts;
}

/**
 * Reads fields of an object of unknown shape, checking each type on the way: a wrong shape is an
 * {@link InvalidObjectError} naming the field; an absent field (or an explicit null) is
 * `undefined`. Only the fields the discoverer reads are ever checked.
 */
export class Fields {
  readonly kind: string;
  readonly #root: unknown;
  readonly #prefix: string;
  #id: string | undefined;

  /** `inside` reads a part of an object whose `id` is known, with paths under `prefix`. */
  constructor(kind: string, root: unknown, inside?: { id: string; prefix: string }) {
    this.kind = kind;
    this.#root = root;
    this.#prefix = inside?.prefix ?? '';
    this.#id = inside?.id;
  }

  /** `namespace/name` of the object (`?` for a missing name): for messages, so made on demand. */
  get id(): string {
    if (this.#id === undefined) {
      const root = this.#root;
      const metadata = isObject(root) && isObject(root.metadata) ? root.metadata : {};
      const name = typeof metadata.name === 'string' ? metadata.name : '?';
      const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
      this.#id = namespace ? `${namespace}/${name}` : name;
    }
    return this.#id;
  }

  invalid(path: string, problem: string): InvalidObjectError {
    return new InvalidObjectError(this.kind, this.id, `${this.#prefix}${path}`, problem);
  }

  /** The raw value at a dotted path; intermediate values must be objects. */
  value(path: string): unknown {
    if (!isObject(this.#root))
      throw this.invalid('(object)', `expected an object, got ${describe(this.#root)}`);
    let current: unknown = this.#root;
    const parts = partsOf(path);
    for (let i = 0; i < parts.length; i++) {
      if (current === undefined || current === null) return undefined;
      if (!isObject(current))
        throw this.invalid(
          parts.slice(0, i).join('.'),
          `expected an object, got ${describe(current)}`,
        );
      current = current[parts[i] as string];
    }
    return current === null ? undefined : current;
  }

  string(path: string): string | undefined {
    const value = this.value(path);
    if (value === undefined) return undefined;
    if (typeof value !== 'string')
      throw this.invalid(path, `expected string, got ${describe(value)}`);
    return value;
  }

  requiredString(path: string): string {
    const value = this.string(path);
    if (value === undefined || value === '')
      throw this.invalid(path, 'required, but missing or empty');
    return value;
  }

  boolean(path: string): boolean | undefined {
    const value = this.value(path);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean')
      throw this.invalid(path, `expected boolean, got ${describe(value)}`);
    return value;
  }

  integer(path: string): number | undefined {
    const value = this.value(path);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw this.invalid(path, `expected integer, got ${describe(value)}`);
    }
    return value;
  }

  object(path: string): Json | undefined {
    const value = this.value(path);
    if (value === undefined) return undefined;
    if (!isObject(value)) throw this.invalid(path, `expected object, got ${describe(value)}`);
    return value;
  }

  stringArray(path: string): string[] | undefined {
    const value = this.value(path);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw this.invalid(path, `expected array, got ${describe(value)}`);
    return value.map((item, index) => {
      if (typeof item !== 'string')
        throw this.invalid(`${path}[${index}]`, `expected string, got ${describe(item)}`);
      return item;
    });
  }

  objectArray(path: string): Json[] | undefined {
    const value = this.value(path);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw this.invalid(path, `expected array, got ${describe(value)}`);
    return value.map((item, index) => {
      if (!isObject(item))
        throw this.invalid(`${path}[${index}]`, `expected object, got ${describe(item)}`);
      return item;
    });
  }

  /** A string-to-string map (own keys only; read it with {@link ownValue}). */
  stringMap(path: string): Record<string, string> | undefined {
    const value = this.object(path);
    if (value === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = value[key];
      if (typeof item !== 'string')
        throw this.invalid(`${path}.${key}`, `expected string, got ${describe(item)}`);
      setOwn(out, key, item);
    }
    return out;
  }

  /** Reads inside an object found at `path` (an item of {@link Fields.objectArray}, say). */
  nested(path: string, object: Json): Fields {
    return new Fields(this.kind, object, { id: this.id, prefix: `${this.#prefix}${path}.` });
  }
}
