import type { Readable } from 'node:stream';
import { dropFieldsOrKeep, type FieldTree } from './drop-before-parse.js';

const BLANK = /^\s*$/;
const NEWLINE = 10;

/**
 * Splits a byte stream into lines, also when a line (or a UTF-8 character) spans chunks. Works on
 * the bytes: a newline byte never occurs inside a multi-byte character, so each complete line is
 * decoded once, straight from its chunk (pieces are joined only for a line that spans chunks).
 * Blank lines are skipped. With `drop`, the fields it names are cut from each line's bytes before
 * it is decoded (a line whose structure the cut cannot follow is left whole).
 */
class LineSplitter {
  /** Pieces of a line that spans chunks (no newline in them). */
  #pending: Buffer[] = [];
  #chunk: Buffer | undefined;
  #offset = 0;
  /** Chunks pushed while the current one still had lines to read. */
  #queued: Buffer[] = [];
  readonly #drop: FieldTree | undefined;

  constructor(drop: FieldTree | undefined) {
    this.#drop = drop;
  }

  push(chunk: Buffer): void {
    if (this.#chunk === undefined) {
      this.#chunk = chunk;
      this.#offset = 0;
    } else this.#queued.push(chunk);
  }

  /** The next complete line, or undefined once the chunks pushed have none left. */
  next(): string | undefined {
    for (;;) {
      const chunk = this.#chunk;
      if (chunk === undefined) return undefined;
      const newline = chunk.indexOf(NEWLINE, this.#offset);
      if (newline < 0) {
        if (this.#offset < chunk.length) this.#pending.push(chunk.subarray(this.#offset));
        this.#chunk = this.#queued.shift();
        this.#offset = 0;
        continue;
      }
      const line = this.#line(chunk, newline);
      this.#offset = newline + 1;
      if (!BLANK.test(line)) return line;
    }
  }

  /** The line that ends at `newline` in `chunk`, decoded once. */
  #line(chunk: Buffer, newline: number): string {
    if (this.#pending.length === 0 && this.#drop === undefined) {
      return chunk.toString('utf8', this.#offset, newline);
    }
    this.#pending.push(chunk.subarray(this.#offset, newline));
    const bytes =
      this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    this.#pending = [];
    return dropFieldsOrKeep(bytes, this.#drop).toString('utf8');
  }

  /** What is left after the last newline, once the stream has ended. */
  rest(): string | undefined {
    const rest = dropFieldsOrKeep(Buffer.concat(this.#pending), this.#drop).toString('utf8');
    this.#pending = [];
    return BLANK.test(rest) ? undefined : rest;
  }
}

/**
 * What a line handler asks of {@link LineReader.read}: go on (`undefined`), pause reading and
 * hand control back (`'pause'`), or hold the body until a promise settles (backpressure).
 */
export type LineResult = undefined | 'pause' | PromiseLike<unknown>;

/** What a {@link LineReader} reports as it reads, for a stall watchdog. */
export interface ReadActivity {
  /** Bytes arrived. */
  bytes(): void;
  /** A handler holds the body until `until` settles; `undefined` once it has. */
  held(until: PromiseLike<unknown> | undefined): void;
}

const ignore = (): void => undefined;

/**
 * Reads a streaming body line by line, pushing each line to a handler as it arrives: no promise
 * per line or chunk, which a watch delivering hundreds of events a second would otherwise pay
 * for. While the handler's promise is pending the body is paused (backpressure). A handler can
 * also pause reading: {@link read} then resolves `'paused'` with the body paused and the lines
 * not yet read kept, and a later `read` (with another handler, say) goes on from there. That is
 * how one stream serves a watch-list's initial events and then the watch.
 */
export class LineReader {
  readonly #body: Readable;
  readonly #activity: ReadActivity;
  readonly #splitter: LineSplitter;
  #onLine: ((line: string) => LineResult) | undefined;
  #settle: { resolve(end: 'ended' | 'paused'): void; reject(error: unknown): void } | undefined;
  /** A handler's promise is pending: the body is paused for it. */
  #waiting = false;
  /** The body ended (every byte is in the splitter). */
  #ended = false;
  /** The body failed while nobody was reading: the next `read` rejects with it. */
  #failure: { error: unknown } | undefined;
  #closed = false;

  /** `drop`: fields cut from each line's bytes before it is decoded (see `dropFields`). */
  constructor(body: Readable, activity: ReadActivity, drop?: FieldTree) {
    this.#body = body;
    this.#activity = activity;
    this.#splitter = new LineSplitter(drop);
    // Paused until the first `read`: nothing is taken before a handler is there.
    body.pause();
    body.on('data', this.#onData);
    body.once('end', this.#onEnd);
    body.once('close', this.#onClose);
    body.once('error', this.#fail);
  }

  /**
   * Hands each line to `onLine`. Resolves `'ended'` after the last line of a body that ended, or
   * `'paused'` when `onLine` asked to pause; rejects when the body fails or closes before its end,
   * when `onLine` throws, or when its promise rejects.
   */
  read(onLine: (line: string) => LineResult): Promise<'ended' | 'paused'> {
    return new Promise((resolve, reject) => {
      this.#onLine = onLine;
      this.#settle = { resolve, reject };
      if (this.#failure !== undefined) this.#finish(this.#failure.error);
      else if (!this.#waiting) {
        this.#body.resume();
        this.#drain();
      }
    });
  }

  /** Stops reading for good: the body is destroyed unless it ended. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#body.off('data', this.#onData);
    this.#body.off('end', this.#onEnd);
    this.#body.off('close', this.#onClose);
    this.#body.off('error', this.#fail);
    // Errors of a body no longer read (an abort after an early stop) are expected.
    this.#body.on('error', ignore);
    if (!this.#ended) this.#body.destroy();
  }

  #finish(error: unknown): void {
    const settle = this.#settle;
    this.#settle = undefined;
    this.#onLine = undefined;
    if (settle === undefined) this.#failure ??= { error };
    else settle.reject(error);
  }

  #resolve(end: 'ended' | 'paused'): void {
    const settle = this.#settle;
    this.#settle = undefined;
    this.#onLine = undefined;
    if (end === 'paused') this.#body.pause();
    settle?.resolve(end);
  }

  /** Passes one line on; false when reading must not go on now. */
  #handle(line: string): boolean {
    const result = (this.#onLine as (line: string) => LineResult)(line);
    if (result === undefined) return true;
    if (result === 'pause') {
      this.#resolve('paused');
      return false;
    }
    this.#waiting = true;
    this.#body.pause();
    this.#activity.held(result);
    result.then(() => {
      this.#waiting = false;
      this.#activity.held(undefined);
      if (this.#settle === undefined) return;
      this.#body.resume();
      this.#drain();
    }, this.#fail);
    return false;
  }

  #drain(): void {
    try {
      for (let line = this.#splitter.next(); line !== undefined; line = this.#splitter.next()) {
        if (!this.#handle(line)) return;
      }
      if (!this.#ended) return;
      const rest = this.#splitter.rest();
      if (rest !== undefined && !this.#handle(rest)) return;
      this.#resolve('ended');
    } catch (error) {
      this.#finish(error);
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#activity.bytes();
    this.#splitter.push(chunk);
    if (this.#settle !== undefined && !this.#waiting) this.#drain();
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    if (this.#settle !== undefined && !this.#waiting) this.#drain();
  };

  readonly #onClose = (): void => {
    if (!this.#ended) this.#fail(new Error('watch stream closed before its end'));
  };

  readonly #fail = (error: unknown): void => {
    this.#finish(error);
  };
}
