import { HttpError } from './http-error.js';

/** What a client refused for `maxFresh` is told to wait before it tries again, in seconds. */
const RETRY_AFTER_SECONDS = 1;

/** One fresh explain in flight, shared by the requests that wait for it. */
interface InFlight<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiting: number;
}

/**
 * Fresh explains (reads against the API server) in flight: one per name, shared by every
 * request for that name, cancelled once none of them waits any more, and at most `max` names at
 * once: a request for another name beyond that is a 503 with `Retry-After`.
 */
export class FreshExplains<T> {
  readonly #max: number;
  readonly #explain: (name: string, signal: AbortSignal) => Promise<T>;
  readonly #inFlight = new Map<string, InFlight<T>>();

  constructor(max: number, explain: (name: string, signal: AbortSignal) => Promise<T>) {
    this.#max = max;
    this.#explain = explain;
  }

  /** How many names are being explained now. */
  get size(): number {
    return this.#inFlight.size;
  }

  /**
   * The fresh explanation of `name`, shared with the requests already waiting for it. Rejects
   * with `signal`'s reason once it aborts (the client left); throws a 503 {@link HttpError}
   * when `max` other names are in flight.
   */
  run(name: string, signal: AbortSignal): Promise<T> {
    signal.throwIfAborted();
    const entry = this.#inFlight.get(name) ?? this.#start(name);
    entry.waiting++;
    return new Promise<T>((resolve, reject) => {
      const leave = (): void => {
        entry.waiting--;
        if (entry.waiting === 0) this.#cancel(name, entry);
        reject(signal.reason);
      };
      signal.addEventListener('abort', leave, { once: true });
      entry.promise.then(resolve, reject).finally(() => {
        signal.removeEventListener('abort', leave);
      });
    });
  }

  #start(name: string): InFlight<T> {
    if (this.#inFlight.size >= this.#max) {
      throw new HttpError(
        503,
        `too many explains reading the cluster now (${this.#max}); retry later`,
        {
          'retry-after': String(RETRY_AFTER_SECONDS),
        },
      );
    }
    const controller = new AbortController();
    const entry: InFlight<T> = {
      promise: Promise.resolve().then(() => this.#explain(name, controller.signal)),
      controller,
      waiting: 0,
    };
    entry.promise
      .catch(() => undefined)
      .finally(() => {
        if (this.#inFlight.get(name) === entry) this.#inFlight.delete(name);
      });
    this.#inFlight.set(name, entry);
    return entry;
  }

  /** Nobody waits any more: the reads are aborted, and the next request starts afresh. */
  #cancel(name: string, entry: InFlight<T>): void {
    if (this.#inFlight.get(name) === entry) this.#inFlight.delete(name);
    entry.controller.abort();
  }
}
