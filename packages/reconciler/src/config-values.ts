/**
 * Reading checked values out of a parsed vMCP config document (YAML or JSON, already turned into
 * plain values). Every error names the path of the offending value in the file and what is wrong
 * with it, never the value itself: the document holds secret material.
 */

/** An `outgoingAuth` block (or a strategy in it) that cannot be used: where, and what is wrong. */
export class OutgoingAuthConfigError extends Error {
  override readonly name = 'OutgoingAuthConfigError';
  /** The path of the offending value in the file, e.g. `outgoingAuth.backends.fetch.type`. */
  readonly path: string;
  /** What is wrong with it, without the value. */
  readonly problem: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.path = path;
    this.problem = problem;
  }
}

/** The environment `...Env` fields are read from. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A mapping of the document: its path and its own keys. */
export type Mapping = { readonly path: string; readonly values: Readonly<Record<string, unknown>> };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `parent.key`, or `parent["key"]` where the key is not a plain identifier. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Whether a key, type or source the document names but nobody knows may be shown in an error: only
 * when it looks like a misspelt keyword (letters and underscores, at most 40), since a value
 * written where a keyword goes (a mis-indented token) must not be echoed.
 */
export function looksLikeKeyword(text: string): boolean {
  return /^[A-Za-z_]{1,40}$/.test(text);
}

/** A key of the document that is not a known one, as an error may show it ({@link looksLikeKeyword}). */
export function unknownKeyPath(parent: string, key: string): string {
  return looksLikeKeyword(key) ? childPath(parent, key) : `${parent}[<key not shown>]`;
}

/**
 * An environment variable's name as an error may show it: only when it looks like one by
 * convention (upper-case letters, digits and underscores, at most 128), since a value written
 * where the name goes (the token itself in `headerValueEnv`) must not be echoed.
 */
function shownVariable(name: string): string {
  return /^[A-Z_][A-Z0-9_]{0,127}$/.test(name)
    ? `environment variable ${name}`
    : 'the environment variable it names (not shown: it does not look like a variable name)';
}

/** What a value is, for an error: its type, never its content. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/**
 * `value` as a mapping whose keys are all in `known`: anything else is an error naming the first
 * unknown key (a misspelt key inside `outgoingAuth` could silently change who gets which
 * credentials, so none is ignored).
 */
export function mappingAt(value: unknown, path: string, known: readonly string[]): Mapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OutgoingAuthConfigError(path, `must be a mapping, got ${describeType(value)}`);
  }
  const values = value as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (!known.includes(key)) {
      throw new OutgoingAuthConfigError(
        unknownKeyPath(path, key),
        `unknown key; known here: ${known.join(', ')}`,
      );
    }
  }
  return { path, values };
}

/** An own property of the mapping (`undefined` when absent or explicitly null in YAML). */
function own(mapping: Mapping, key: string): unknown {
  return Object.hasOwn(mapping.values, key) ? mapping.values[key] : undefined;
}

/** An optional string; present means a non-empty string. */
export function optionalString(mapping: Mapping, key: string): string | undefined {
  const value = own(mapping, key);
  if (value === undefined || value === null) return undefined;
  const path = childPath(mapping.path, key);
  if (typeof value !== 'string') {
    throw new OutgoingAuthConfigError(
      path,
      `must be a string, got ${describeType(value)} (quote it in YAML)`,
    );
  }
  if (value === '') throw new OutgoingAuthConfigError(path, 'must not be empty');
  return value;
}

/** A required non-empty string. */
export function requiredString(mapping: Mapping, key: string): string {
  const value = optionalString(mapping, key);
  if (value === undefined)
    throw new OutgoingAuthConfigError(childPath(mapping.path, key), 'is required');
  return value;
}

/** A required absolute http(s) URL. */
export function urlString(mapping: Mapping, key: string): string {
  const value = requiredString(mapping, key);
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new OutgoingAuthConfigError(
      childPath(mapping.path, key),
      'must be an absolute http(s) URL',
    );
  }
  return value;
}

/** An optional list of non-empty strings. */
export function optionalStringList(mapping: Mapping, key: string): string[] | undefined {
  const value = own(mapping, key);
  if (value === undefined || value === null) return undefined;
  const path = childPath(mapping.path, key);
  if (!Array.isArray(value)) {
    throw new OutgoingAuthConfigError(
      path,
      `must be a list of strings, got ${describeType(value)}`,
    );
  }
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string' || item === '') {
      throw new OutgoingAuthConfigError(
        childPath(path, index),
        `must be a non-empty string, got ${item === '' ? 'an empty one' : describeType(item)}`,
      );
    }
    return item;
  });
}

/** An optional whole number within `[min, max]`. */
export function optionalInteger(
  mapping: Mapping,
  key: string,
  range: { min: number; max: number },
): number | undefined {
  const value = own(mapping, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new OutgoingAuthConfigError(
      childPath(mapping.path, key),
      `must be a whole number, got ${describeType(value)}`,
    );
  }
  if (value < range.min || value > range.max) {
    throw new OutgoingAuthConfigError(
      childPath(mapping.path, key),
      `must be from ${range.min} to ${range.max}`,
    );
  }
  return value;
}

/** An optional boolean (`true`/`false`; YAML 1.2, so `yes` is a string and refused). */
export function optionalBoolean(mapping: Mapping, key: string): boolean | undefined {
  const value = own(mapping, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    throw new OutgoingAuthConfigError(
      childPath(mapping.path, key),
      `must be true or false, got ${describeType(value)}`,
    );
  }
  return value;
}

/** A list of mappings, each checked by `read` at its own path. */
export function optionalMappingList<T>(
  mapping: Mapping,
  key: string,
  read: (item: unknown, path: string) => T,
): T[] | undefined {
  const value = own(mapping, key);
  if (value === undefined || value === null) return undefined;
  const path = childPath(mapping.path, key);
  if (!Array.isArray(value)) {
    throw new OutgoingAuthConfigError(path, `must be a list, got ${describeType(value)}`);
  }
  return value.map((item: unknown, index) => read(item, childPath(path, index)));
}

/**
 * Secret material given either inline (`key`) or by the name of an environment variable
 * (`key` + `Env`), which is read now: at most one of the two; a variable that is unset or empty
 * is an error naming it. `required`: one of the two must be given.
 */
export function secretValue(
  mapping: Mapping,
  key: string,
  env: Environment,
  options: { required: boolean },
): string | undefined {
  const envKey = `${key}Env`;
  const inline = optionalString(mapping, key);
  const variable = optionalString(mapping, envKey);
  if (inline !== undefined && variable !== undefined) {
    throw new OutgoingAuthConfigError(mapping.path, `set ${key} or ${envKey}, not both`);
  }
  if (variable !== undefined) {
    const value = Object.hasOwn(env, variable) ? env[variable] : undefined;
    if (value === undefined || value === '') {
      throw new OutgoingAuthConfigError(
        childPath(mapping.path, envKey),
        `${shownVariable(variable)} is not set or empty`,
      );
    }
    return value;
  }
  if (inline === undefined && options.required) {
    throw new OutgoingAuthConfigError(mapping.path, `one of ${key} or ${envKey} is required`);
  }
  return inline;
}
