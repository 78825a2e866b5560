import { readFileSync } from 'node:fs';

/** A process's resident memory now (VmRSS) and its peak so far (VmHWM), in MB, from /proc. */
export function readRss(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** Samples a process's RSS every 250 ms; `stop()` gives the peak in MB. */
export class RssSampler {
  #peak = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number) {
    const sample = () => {
      this.#peak = Math.max(this.#peak, readRss(pid).rssMb);
    };
    sample();
    this.#timer = setInterval(sample, 250);
  }

  stop(): number {
    clearInterval(this.#timer);
    return this.#peak;
  }
}
