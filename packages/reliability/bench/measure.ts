/**
 * What the benchmarks read about a process from outside it (Linux /proc), and the statistics
 * they print, so that every contender, Node or Go, is measured the same way.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Fields of /proc/<pid>/status in MB: peak and current resident set, anonymous and file-backed. */
export interface Memory {
  peakMb: number;
  rssMb: number;
  /** Anonymous memory (the heap, stacks, buffers): what the program itself allocated. */
  anonMb: number;
  /** File-backed pages (the node binary's code and data it touched): clean, shared, reclaimable. */
  fileMb: number;
}

/** A process's memory from /proc/<pid>/status. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
  return {
    peakMb: mb('VmHWM'),
    rssMb: mb('VmRSS'),
    anonMb: mb('RssAnon'),
    fileMb: mb('RssFile'),
  };
}

/** CPU time (user and system, every thread) a process has used so far, in µs. */
export function cpuUsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15, in clock ticks of 1/100 s (USER_HZ on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** The p-th percentile (0 to 100) of some values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The median (the upper one of an even count); NaN for none. */
export const median = (values: readonly number[]): number => percentile(values, 50);

/** The machine's load average over 1, 5 and 15 minutes, for the line printed beside a figure. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

/** A figure right-aligned in a column, `n/a` when it is not a finite number. */
export function cell(value: number, digits = 0, width = 10): string {
  return (Number.isFinite(value) ? value.toFixed(digits) : 'n/a').padStart(width);
}

/** Runs `run` over the items, at most `limit` at a time. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}
