import type { WaitOptions } from '@vmcp/registry';
import type { Clock } from './clock.js';

type Waiter = (outcome: Error | undefined) => void;

/**
 * Whether the client holds its first snapshot yet: the `ready` promise, and waits with a
 * timeout and a signal. A wait that ends (synced, timed out, aborted) leaves nothing behind: the
 * waits are a set that each one leaves, not reactions on `ready` that would stay until it
 * settles (one per call, for as long as a sidecar is not ready).
 */
export class Readiness {
  /** Resolves once synced; rejects when the client fails or closes first. */
  readonly ready: Promise<void>;
  readonly #clock: Clock;
  readonly #waiters = new Set<Waiter>();
  #settle!: { resolve: () => void; reject: (error: Error) => void };
  #synced = false;
  /** Why it will never sync (a failure, close), once known. */
  #error: Error | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // Marked handled: a program that never awaits `ready` must not die of its rejection.
    this.ready.catch(() => undefined);
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Waits in progress (for tests: none is left once they end). */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** The first snapshot is held. */
  resolve(): void {
    if (this.#synced || this.#error !== undefined) return;
    this.#synced = true;
    this.#settle.resolve();
    this.#wake(undefined);
  }

  /** The client will never sync (it failed, or closed first). Ignored once synced. */
  reject(error: Error): void {
    if (this.#synced || this.#error !== undefined) return;
    this.#error = error;
    this.#settle.reject(error);
    this.#wake(error);
  }

  /**
   * True once synced, false when `timeoutMs` passes first; rejects with the signal's reason
   * when aborted, and with the error of {@link reject}.
   */
  wait(options: WaitOptions = {}): Promise<boolean> {
    const { signal, timeoutMs } = options;
    signal?.throwIfAborted();
    if (this.#synced) return Promise.resolve(true);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise<boolean>((resolve, reject) => {
      let cancelTimer = (): void => undefined;
      const finish = (settle: () => void): void => {
        this.#waiters.delete(waiter);
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const waiter: Waiter = (error) =>
        finish(error === undefined ? () => resolve(true) : () => reject(error));
      const onAbort = (): void => finish(() => reject(signal?.reason));
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        cancelTimer = this.#clock.setTimer(timeoutMs, () => finish(() => resolve(false)));
      }
    });
  }

  #wake(error: Error | undefined): void {
    for (const waiter of [...this.#waiters]) waiter(error);
  }
}
