/**
 * Deep equality and frozen copies for the plain, JSON-like values a `Backend` is made of.
 * Properties whose value is `undefined` count as absent, as they would after a JSON round trip.
 */

type Plain = Record<string, unknown>;

/** The empty list every change without upserts or removals shares. */
export const NONE: readonly never[] = Object.freeze([]);

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when the two JSON-like values are structurally equal. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && arraysEqual(a, b);
  return isPlainObject(a) && isPlainObject(b) && objectsEqual(a, b);
}

function arraysEqual(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
  return true;
}

/** Same defined properties, deep-equal values; an `undefined` property counts as absent. */
function objectsEqual(a: Plain, b: Plain): boolean {
  let definedInA = 0;
  for (const key in a) {
    const value = a[key];
    if (value === undefined) continue;
    definedInA++;
    if (!Object.hasOwn(b, key) || !deepEqual(value, b[key])) return false;
  }
  let definedInB = 0;
  for (const key in b) if (b[key] !== undefined) definedInB++;
  return definedInA === definedInB;
}

/**
 * A deep copy of a JSON-like value, frozen at every level, with `undefined` properties dropped.
 * The caller's object is never frozen or retained, so later changes to it cannot reach the copy.
 */
export function frozenCopy<T>(value: T): T {
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy)) as T;
  if (!isPlainObject(value)) return value;
  const copy: Plain = {};
  for (const key in value) {
    const field = value[key];
    if (field === undefined) continue;
    // A `__proto__` key (a header name or an annotation can be one) is data, as in JSON: plain
    // assignment would set the copy's prototype instead.
    if (key === '__proto__') {
      Object.defineProperty(copy, key, {
        value: frozenCopy(field),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else copy[key] = frozenCopy(field);
  }
  return Object.freeze(copy) as T;
}

/**
 * `value` itself frozen at every level, for JSON-like data that nothing else holds (what
 * `JSON.parse` just returned): the same content as {@link frozenCopy} gives, without the copy.
 * What is not plain data (an object with another prototype, an `undefined` property to drop,
 * something already frozen that holds such a thing) is copied as {@link frozenCopy} copies it.
 */
export function frozenInPlace<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return arrayInPlace(value) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype) return frozenCopy(value);
  return objectInPlace(value as Plain) as T;
}

function arrayInPlace(value: unknown[]): readonly unknown[] {
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    const frozen = frozenInPlace(item);
    if (frozen === item) continue;
    if (Object.isFrozen(value)) return frozenCopy(value);
    value[i] = frozen;
  }
  return Object.freeze(value);
}

function objectInPlace(data: Plain): Plain {
  for (const key in data) {
    const field = data[key];
    if (field === undefined) return frozenCopy(data);
    const frozen = frozenInPlace(field);
    if (frozen === field) continue;
    if (Object.isFrozen(data)) return frozenCopy(data);
    // Assignment updates an own `__proto__` data property (JSON.parse makes one) like any other.
    data[key] = frozen;
  }
  return Object.freeze(data);
}
