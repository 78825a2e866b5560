/** The whole numbers a count option accepts, both ends included. */
export interface CountRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Checks a count option (workers, concurrency): `fallback` when it is undefined, else a whole
 * number within `range`, else a `RangeError` naming the option, the value and the range. `NaN`
 * would start no worker at all and `1e9` would try to start a billion: neither is let through.
 *
 * @example
 * const workers = checkCount('maxConcurrentReconciles', options.maxConcurrentReconciles, { min: 1, max: 1024 }, 1);
 */
export function checkCount(
  option: string,
  value: unknown,
  range: CountRange,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= range.min &&
    value <= range.max
  ) {
    return value;
  }
  const shown = typeof value === 'number' ? String(value) : `a ${typeof value}`;
  throw new RangeError(
    `${option} ${shown} is not a whole number from ${range.min} to ${range.max}`,
  );
}
