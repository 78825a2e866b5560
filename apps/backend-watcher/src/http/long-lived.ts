import type { Counter, Gauge } from 'prom-client';
import { HttpError } from './http-error.js';

/** What a client refused for `maxStreams` is told to wait before it tries again, in seconds. */
export const STREAMS_RETRY_AFTER_SECONDS = 5;

/**
 * The long-polls and event streams in flight: at most `max` at once (more get 503 with
 * `Retry-After`), counted by kind, and ended together at shutdown.
 */
export class LongLived {
  readonly #controllers = new Set<AbortController>();
  readonly #max: number;
  readonly #open: Gauge<'kind'>;
  readonly #refused: Counter<'kind'>;

  constructor(options: { max: number; open: Gauge<'kind'>; refused: Counter<'kind'> }) {
    this.#max = options.max;
    this.#open = options.open;
    this.#refused = options.refused;
  }

  /**
   * Runs a long-lived answer with a signal that {@link LongLived.abortAll} aborts. Throws a 503
   * {@link HttpError} (before `work` starts) when `max` are open already.
   */
  run<T>(kind: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#controllers.size >= this.#max) {
      this.#refused.inc({ kind });
      throw new HttpError(
        503,
        `too many long-polls and event streams open (${this.#max}); retry later`,
        { 'retry-after': String(STREAMS_RETRY_AFTER_SECONDS) },
      );
    }
    const controller = new AbortController();
    this.#controllers.add(controller);
    this.#open.inc({ kind });
    let running: Promise<T>;
    try {
      running = work(controller.signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    return running.finally(() => {
      this.#controllers.delete(controller);
      this.#open.dec({ kind });
    });
  }

  abortAll(): void {
    for (const controller of this.#controllers) controller.abort();
  }
}
