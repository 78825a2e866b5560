import type { ServerResponse } from 'node:http';
import { sendJson } from './response.js';
import { ApiFailure } from './status.js';
import type { WatchSession } from './watch.js';

/** A failure that tests ask the server to answer with. */
export interface InjectedFailure {
  status: number;
  retryAfterSeconds?: number;
  reason?: string;
  message?: string;
}

/** What tests can do to the server that a real one does not do on demand. */
export interface FaultControls {
  /** Ends every open watch at once, as a dropped connection would. */
  dropWatches(): void;
  /** Accept requests but answer nothing (and send nothing on open watches) until turned off. */
  stall(on: boolean): void;
  /** Answer the next `count` API requests with this status (and `Retry-After`). */
  failNext(count: number, failure: InjectedFailure): void;
  /** Forget the change history: a watch from an older resourceVersion gets 410 Gone in-stream. */
  compact(): void;
  /** How many watches are open now (tests wait for one before injecting a fault). */
  openWatches(): number;
}

/** The state of the faults injected into a server: a stall, and failures to answer with. */
export class Faults {
  readonly #watches: ReadonlySet<WatchSession>;
  #stalled = false;
  readonly #held: (() => void)[] = [];
  #failures: (InjectedFailure & { count: number }) | undefined;

  /** `watches`: the server's open watches, which a stall pauses and a drop ends. */
  constructor(watches: ReadonlySet<WatchSession>) {
    this.#watches = watches;
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  /** Runs a request now, or holds it until the stall ends. */
  admit(request: () => void): void {
    if (this.#stalled) this.#held.push(request);
    else request();
  }

  stall(on: boolean): void {
    this.#stalled = on;
    for (const watch of this.#watches) {
      if (on) watch.pause();
      else watch.resume();
    }
    if (!on) this.releaseHeld();
  }

  /** Lets every held request go (when the stall ends, or the server closes). */
  releaseHeld(): void {
    for (const request of this.#held.splice(0)) request();
  }

  dropWatches(): void {
    for (const watch of [...this.#watches]) watch.destroy();
  }

  failNext(count: number, failure: InjectedFailure): void {
    this.#failures = { count, ...failure };
  }

  /** Answers with the next injected failure when one is due; says whether it did. */
  answerWithFailure(res: ServerResponse): boolean {
    const f = this.#failures;
    if (f === undefined || f.count <= 0) return false;
    f.count -= 1;
    const headers: Record<string, string> = {};
    if (f.retryAfterSeconds !== undefined) headers['retry-after'] = String(f.retryAfterSeconds);
    const failure = new ApiFailure(
      f.status,
      f.reason ??
        (f.status === 429 ? 'TooManyRequests' : f.status >= 500 ? 'InternalError' : 'BadRequest'),
      f.message ?? `injected failure ${f.status}`,
      f.retryAfterSeconds !== undefined ? { retryAfterSeconds: f.retryAfterSeconds } : undefined,
    );
    sendJson(res, f.status, failure.toStatus(), headers);
    return true;
  }
}
