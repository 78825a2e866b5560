/**
 * Own-key access for objects from requests. A key read from a request (a field name, a label
 * key, a JSON pointer segment) is untrusted: `object[key]` finds `Object.prototype` members such
 * as `constructor` where the object has no such key, and `object[key] = value` sets the
 * prototype for `__proto__` (a key JSON can carry) instead of a field.
 */

/** The value of one of the object's own keys, or `undefined`. */
export function ownValue<T>(
  object: Readonly<Record<string, T>> | undefined,
  key: string,
): T | undefined {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Sets one own key, whatever the key (a `__proto__` key becomes a field, as in JSON). */
export function setOwn<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else object[key] = value;
}
