/**
 * The range of a duration option (milliseconds): a finite number from `min` to `max`, or 0 where
 * `off` allows it. Out of range, NaN, negative or infinite is a `RangeError` naming the option, the
 * value and the limit. (The workspace's rule for durations; see the README.)
 */
export interface DurationRange {
  min: number;
  max: number;
  /** 0 is allowed and means "off". */
  off?: boolean;
}

/** The same duration as a person writes it: `720h`, `90s`, `1500ms`. */
export function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Returns `value` when it is within `range`; throws a `RangeError` otherwise. */
export function checkDurationMs(option: string, value: number, range: DurationRange): number {
  if (range.off && value === 0) return value;
  const limit = (which: string, ms: number) => `${which} of ${ms} (${formatMs(ms)})`;
  const allowed = range.off ? ', or 0 to turn it off' : '';
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new RangeError(`${option} ${String(value)} is not a number of milliseconds${allowed}`);
  }
  if (value < range.min) {
    throw new RangeError(
      `${option} ${value} is below the ${limit('minimum', range.min)}${allowed}`,
    );
  }
  if (value > range.max) {
    throw new RangeError(`${option} ${value} is above the ${limit('maximum', range.max)}`);
  }
  return value;
}
