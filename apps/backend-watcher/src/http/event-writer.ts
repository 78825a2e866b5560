import type { Clock } from '@vmcp/kube-runtime';
import type { LastResort } from './last-resort.js';

/** What an {@link EventWriter} writes to: a `ServerResponse`, or any `Writable`. */
export interface EventSink {
  write(chunk: Buffer | string): boolean;
  readonly destroyed: boolean;
  /** Bytes written but not yet taken by the client (for the log line of a drop). */
  readonly writableLength: number;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
  destroy(): unknown;
}

/** Options of {@link EventWriter}. */
export interface EventWriterOptions {
  /** Timers of the slow-client drop and the heartbeats. */
  clock: Clock;
  /** A client that has not taken what was written for this long is dropped. */
  slowClientTimeoutMs: number;
  /** Told once when the client is dropped, with the bytes it left unread. */
  onSlowClient(unread: number): void;
  /** Where an error of a timer goes (the stream is then closed). */
  lastResort: LastResort;
}

/**
 * Writes one event stream with back-pressure on every write (snapshot, heartbeat, change). After
 * a write that fills the sink's buffer the stream is backed up: heartbeats are skipped (never
 * queued), the caller waits with {@link EventWriter.ready} before writing a change, and a timer
 * drops the client if the buffer has not drained within `slowClientTimeoutMs`, whether or not
 * anything else happens. A stuck client therefore holds at most what one event references
 * (shared buffers), for at most the slow-client timeout.
 */
export class EventWriter {
  readonly #sink: EventSink;
  readonly #options: EventWriterOptions;
  #closed = false;
  /** Cancels the slow-client timer while the stream is backed up. */
  #cancelDrop: (() => void) | undefined;
  #cancelHeartbeat: () => void = () => undefined;
  readonly #waiting = new Set<(ready: boolean) => void>();
  readonly #onDrain = (): void => {
    this.#cancelDrop?.();
    this.#cancelDrop = undefined;
    this.#wake(true);
  };
  readonly #onClose = (): void => this.close();
  /** After a failure of the stream's own code: it ends, and the client resumes elsewhere. */
  readonly #abandon = (): void => {
    this.close();
    this.#sink.destroy();
  };

  constructor(sink: EventSink, options: EventWriterOptions) {
    this.#sink = sink;
    this.#options = options;
    sink.on('drain', this.#onDrain);
    sink.on('close', this.#onClose);
    if (sink.destroyed) this.close();
  }

  /** True while what was written has not drained: the client is not keeping up. */
  get backedUp(): boolean {
    return this.#cancelDrop !== undefined;
  }

  /** True once the stream ended (closed, dropped, or the sink went away). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes one event (its parts in order); false when it filled the buffer (the stream is now
   * backed up) or the stream is closed.
   */
  write(parts: readonly (Buffer | string)[]): boolean {
    if (this.#closed || this.#sink.destroyed) return false;
    let below = true;
    for (const part of parts) below = this.#sink.write(part) && below;
    if (!below && this.#cancelDrop === undefined) {
      const drop = this.#options.lastResort.guard(
        'stream',
        () => this.#drop(),
        () => this.close(),
      );
      this.#cancelDrop = this.#options.clock.setTimer(this.#options.slowClientTimeoutMs, drop);
    }
    return below;
  }

  /** Resolves true at once or once the buffer drained; false once the stream is closed. */
  ready(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (!this.backedUp) return Promise.resolve(true);
    return new Promise((resolve) => this.#waiting.add(resolve));
  }

  /** Writes `heartbeat()` every `intervalMs` until closed, skipping it while backed up. */
  heartbeats(intervalMs: number, heartbeat: () => string): void {
    const tick = this.#options.lastResort.guard(
      'stream',
      () => {
        if (this.#closed) return;
        if (!this.backedUp) this.write([heartbeat()]);
        this.#cancelHeartbeat = this.#options.clock.setTimer(intervalMs, tick);
      },
      this.#abandon,
    );
    this.#cancelHeartbeat = this.#options.clock.setTimer(intervalMs, tick);
  }

  /** Ends the stream's timers and waits; the sink itself is the caller's to end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelDrop?.();
    this.#cancelDrop = undefined;
    this.#cancelHeartbeat();
    this.#sink.off('drain', this.#onDrain);
    this.#sink.off('close', this.#onClose);
    this.#wake(false);
  }

  #drop(): void {
    this.#cancelDrop = undefined;
    if (this.#closed) return;
    this.#options.onSlowClient(this.#sink.writableLength);
    this.close();
    this.#sink.destroy();
  }

  #wake(ready: boolean): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const resolve of waiting) resolve(ready);
  }
}
