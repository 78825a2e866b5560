import type { Gauge } from 'prom-client';

/** The long-polls and event streams in flight: counted by kind, and ended together at shutdown. */
export class LongLived {
  readonly #controllers = new Set<AbortController>();
  readonly #open: Gauge;

  constructor(open: Gauge) {
    this.#open = open;
  }

  /** Runs a long-lived answer with a signal that {@link LongLived.abortAll} aborts. */
  run<T>(kind: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.#controllers.add(controller);
    this.#open.inc({ kind });
    return work(controller.signal).finally(() => {
      this.#controllers.delete(controller);
      this.#open.dec({ kind });
    });
  }

  abortAll(): void {
    for (const controller of this.#controllers) controller.abort();
  }
}
