import type { Readable } from 'node:stream';
import type { Clock } from './clock.js';
import type { FieldTree } from './drop-before-parse.js';
import { LineReader, type LineResult, type ReadActivity } from './line-stream.js';
import { released } from './sink.js';

/** The reason a watch request is aborted with when its watchdog finds it silent. */
class StallError extends Error {}

/**
 * Aborts a watch that delivers no bytes for `stallMs`. One timer per watch: each chunk only
 * records the time (as cheap as pushing a timer back), and the timer, when it fires, re-arms for
 * whatever is left. While the consumer holds the stream the silence is ours, not the server's:
 * the period starts again when reading does.
 */
class StallWatchdog {
  readonly #clock: Clock;
  readonly #stallMs: number;
  readonly #onStall: () => void;
  #lastActivity: number;
  #held = false;
  #cancel: () => void;

  constructor(clock: Clock, stallMs: number, onStall: () => void) {
    this.#clock = clock;
    this.#stallMs = stallMs;
    this.#onStall = onStall;
    this.#lastActivity = clock.now();
    this.#cancel = clock.setTimer(stallMs, this.#check);
  }

  bytes(): void {
    this.#lastActivity = this.#clock.now();
  }

  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    this.#lastActivity = this.#clock.now();
  }

  stop(): void {
    this.#cancel();
  }

  readonly #check = (): void => {
    const silentMs = this.#held ? 0 : this.#clock.now() - this.#lastActivity;
    if (silentMs >= this.#stallMs) this.#onStall();
    else this.#cancel = this.#clock.setTimer(this.#stallMs - silentMs, this.#check);
  };
}

/**
 * One watch request, open or being opened: the signal that aborts it (the watcher's stop, or its
 * stall watchdog), its body read line by line, and what was seen on it. A watcher state that
 * carries it owns it; the watcher closes it when a transition drops it.
 */
export class WatchStream implements ReadActivity {
  /** The resourceVersion to resume from: where it started, then the last event's (bookmarks too). */
  resourceVersion: string;
  /** Events read so far. */
  events = 0;
  /** The server ended the watch with an in-stream 410. */
  gone = false;
  /** When the request was sent (on the watcher's clock). */
  readonly startedAt: number;
  readonly #controller = new AbortController();
  readonly #stop: AbortSignal;
  readonly #abortOnStop = (): void => this.#controller.abort(this.#stop.reason);
  readonly #watchdog: StallWatchdog;
  #reader: LineReader | undefined;
  #holding: PromiseLike<unknown> | undefined;

  constructor(clock: Clock, stallMs: number, stop: AbortSignal, resourceVersion: string) {
    this.resourceVersion = resourceVersion;
    this.startedAt = clock.now();
    this.#stop = stop;
    stop.addEventListener('abort', this.#abortOnStop, { once: true });
    this.#watchdog = new StallWatchdog(clock, stallMs, () =>
      this.#controller.abort(new StallError('no bytes')),
    );
  }

  /** Aborts the request: on stop, on a stall, or on close. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the watchdog aborted the request. */
  get stalled(): boolean {
    return this.#controller.signal.reason instanceof StallError;
  }

  /**
   * Starts reading the answer's body (paused until the first {@link read}), cutting the fields
   * `drop` names from each event's bytes before it is parsed.
   */
  attach(body: Readable, drop?: FieldTree): void {
    this.#reader = new LineReader(body, this, drop);
  }

  /** See {@link LineReader.read}. */
  read(onLine: (line: string) => LineResult): Promise<'ended' | 'paused'> {
    if (this.#reader === undefined) return Promise.reject(new Error('watch stream not open'));
    return this.#reader.read(onLine);
  }

  /** Holds the stream, as a line handler's promise does, until `until` settles. */
  async hold(until: PromiseLike<unknown> | undefined): Promise<void> {
    if (until === undefined) return;
    this.held(until);
    try {
      await until;
    } finally {
      this.held(undefined);
    }
  }

  /**
   * Waits until the sink takes an event it still held when the stream failed (so that it never
   * has two at once), or the watcher stops; rejects when the sink's promise rejects.
   */
  async released(stop: AbortSignal): Promise<void> {
    if (this.#holding !== undefined) await released(this.#holding, stop);
  }

  /** Ends the request and its watchdog; idempotent. */
  close(): void {
    this.#watchdog.stop();
    this.#stop.removeEventListener('abort', this.#abortOnStop);
    this.#reader?.close();
    this.#controller.abort();
  }

  bytes(): void {
    this.#watchdog.bytes();
  }

  held(until: PromiseLike<unknown> | undefined): void {
    this.#holding = until;
    if (until === undefined) this.#watchdog.release();
    else this.#watchdog.hold();
  }
}
