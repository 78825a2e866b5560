import { vi } from 'vitest';

/**
 * The default ceiling of {@link eventually}: what a condition made true by a watch event, a
 * reconcile or a process's next step may take. Such conditions hold within a few hundred
 * milliseconds on an idle machine and within a few seconds on the 2-core machine running four
 * test suites and two busy loops; the ceiling is only reached by a condition that never holds.
 */
export const EVENTUALLY_TIMEOUT_MS = 30_000;

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** How long the condition may take. Default {@link EVENTUALLY_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** The pause between two attempts. Default 20 ms. */
  intervalMs?: number;
  /** What is awaited, for the error of a predicate that never held. Default `condition`. */
  what?: string;
}

/** Thrown by {@link eventually} for a predicate that was still `false` at the ceiling. */
export class NotMetError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what} not met within ${timeoutMs} ms`);
    this.name = 'NotMetError';
  }
}

/**
 * Retries `check` until it passes, and resolves with what it returned. A check passes when it
 * returns (or resolves to) anything but `false` without throwing, so both a predicate and a block
 * of assertions work. At the ceiling it rejects with the last assertion error (which says what
 * was expected and what was there), or with {@link NotMetError}. An attempt still running at the
 * ceiling (a request to a stalled server) does not hold the rejection up.
 *
 * Built on `vi.waitFor`; like it, it advances fake timers by the interval on every attempt.
 *
 * @example
 * await eventually(() => seen.includes('delete:a'));
 * const list = await eventually(async () => {
 *   const body = await (await fetch(`${url}/v1/backends`)).json();
 *   expect(body.backends).toHaveLength(6);
 *   return body;
 * }, 60_000);
 */
export function eventually<T>(
  check: () => T | Promise<T>,
  options: number | EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  const {
    timeoutMs = EVENTUALLY_TIMEOUT_MS,
    intervalMs = 20,
    what = 'condition',
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === false) throw new NotMetError(what, timeoutMs);
      return value as Exclude<T, false>;
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
}
