/**
 * The workspace's rule for durations: every duration a library option, a flag or an environment
 * variable takes is checked where it enters, against a minimum and a maximum stated beside it.
 * Out of range, NaN, negative or infinite is a {@link DurationRangeError} naming the option, the
 * value and the limit; the real `Clock` chains timers, so no maximum is out of its reach.
 */

/** The durations an option accepts, in milliseconds, stated beside the option (doc, README). */
export interface DurationRange {
  /** The shortest accepted. */
  readonly min: number;
  /** The longest accepted. */
  readonly max: number;
  /** 0 is accepted too, and turns what the option times off. */
  readonly off?: boolean;
}

/**
 * A duration outside its option's range. `problem` says what is wrong in the words of a
 * command line (`is above the maximum of 720h`), for a program that reports its own flag.
 */
export class DurationRangeError extends RangeError {
  override readonly name = 'DurationRangeError';
  /** The option, as its caller names it (`resyncPeriodMs`). */
  readonly option: string;
  readonly value: unknown;
  /** What is wrong, with the limit as a duration (`is below the minimum of 100ms`). */
  readonly problem: string;

  constructor(option: string, value: unknown, problem: string, detail: string) {
    super(`${option} ${shown(value)} ${detail}`);
    this.option = option;
    this.value = value;
    this.problem = problem;
  }
}

/**
 * `value` when it is a number of milliseconds within `range` (or 0 where 0 turns the option
 * off); `fallback` when `value` is undefined; else throws a {@link DurationRangeError}, e.g.
 * `resyncPeriodMs 1000000000000 is above the maximum of 2592000000 (720h)`.
 *
 * @example
 * const stallMs = checkDuration('stallTimeoutMs', options.stallTimeoutMs, STALL_RANGE, 300_000);
 */
export function checkDuration(
  option: string,
  value: unknown,
  range: DurationRange,
  fallback?: number,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    const problem = 'is not a finite number of milliseconds';
    throw new DurationRangeError(option, value, problem, problem);
  }
  if (value === 0 && range.off) return value;
  const off = range.off ? '; 0 turns it off' : '';
  if (value < range.min) {
    throw new DurationRangeError(
      option,
      value,
      `is below the minimum of ${formatDuration(range.min)}${off}`,
      `is below the minimum of ${range.min} (${formatDuration(range.min)}${off})`,
    );
  }
  if (value > range.max) {
    throw new DurationRangeError(
      option,
      value,
      `is above the maximum of ${formatDuration(range.max)}`,
      `is above the maximum of ${range.max} (${formatDuration(range.max)})`,
    );
  }
  return value;
}

/** A value as an error message shows it: numbers as they are, anything else quoted or named. */
function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return value === null ? 'null' : typeof value;
}

const UNITS = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
] as const;

/** Milliseconds as a Go-style duration: `720h`, `1h30m`, `1.5s`, `250ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let text = '';
  for (const [unit, size] of UNITS) {
    const whole = unit === 's' ? rest / size : Math.floor(rest / size);
    if (whole > 0) text += `${Number(whole.toFixed(3))}${unit}`;
    rest -= Math.floor(whole) * size;
  }
  return text;
}
