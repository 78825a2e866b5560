/** One dispatched Server-Sent Event. */
export interface SseEvent {
  /** The `event:` field, or `message`. */
  readonly type: string;
  /** The `data:` lines joined by newlines. */
  readonly data: string;
  /** The `id:` field of this event's block, if it had one. */
  readonly id: string | undefined;
}

/**
 * The most text one event may hold, its unfinished line included: 128 Mi characters, far above
 * any snapshot a sidecar sends (about 5 MB for 1,200 backends), and far below the longest string
 * V8 can make (2^29 - 24), which a join past it would throw on.
 */
export const MAX_EVENT_CHARS = 128 * 1024 * 1024;

/** An event grew past the parser's limit: the stream is not one to follow. */
export class SseEventTooLargeError extends Error {
  override readonly name = 'SseEventTooLargeError';
  constructor(limit: number) {
    super(`an event stream sent an event of more than ${limit} characters`);
  }
}

/**
 * An incremental `text/event-stream` parser, as the WHATWG HTML standard describes it: lines
 * end with LF, CRLF or CR; `data` lines accumulate; a blank line dispatches; comments and
 * `retry:` are ignored; an event without data is not dispatched. Text that ends in the middle
 * of an event is held until the rest arrives, and dropped by {@link end}: a cut connection never
 * yields a partial event.
 */
export class SseParser {
  readonly #dispatch: (event: SseEvent) => void;
  readonly #maxEventChars: number;
  /** Characters received since the last blank line: a bound on what the event under way holds. */
  #heldChars = 0;
  /**
   * The text of the line under way (no line end seen yet), as the pieces it arrived in: each
   * piece is scanned once when it arrives and joined once when its line ends, so that a large
   * event costs time in proportion to its size however finely it is split.
   */
  #partial: string[] = [];
  #skipLf = false;
  #type = '';
  /** The event's data lines joined by newlines; undefined before its first. */
  #data: string | undefined;
  #id: string | undefined;

  /** `maxEventChars`: the most text one event may hold (see {@link MAX_EVENT_CHARS}). */
  constructor(dispatch: (event: SseEvent) => void, maxEventChars = MAX_EVENT_CHARS) {
    this.#dispatch = dispatch;
    this.#maxEventChars = maxEventChars;
  }

  /**
   * Feeds decoded text (any split); dispatches every event it completes. Throws an
   * {@link SseEventTooLargeError} once the event under way holds more than the limit (the
   * parser is then to be dropped with its stream).
   */
  push(text: string): void {
    this.#heldChars += text.length;
    if (this.#heldChars > this.#maxEventChars) {
      this.end();
      throw new SseEventTooLargeError(this.#maxEventChars);
    }
    let lines = text;
    // A CR that ended the previous chunk ended its line; an LF right after it is its other half.
    if (this.#skipLf && lines.startsWith('\n')) lines = lines.slice(1);
    this.#skipLf = false;
    if (lines.includes('\r')) {
      this.#skipLf = lines.endsWith('\r');
      lines = lines.replace(/\r\n?/g, '\n');
    }
    let end = lines.indexOf('\n');
    if (end === -1) {
      if (lines !== '') this.#partial.push(lines);
      return;
    }
    let start = 0;
    if (this.#partial.length > 0) {
      this.#partial.push(lines.slice(0, end));
      const line = this.#partial.join('');
      this.#partial = [];
      this.#line(line, 0, line.length);
      start = end + 1;
      end = lines.indexOf('\n', start);
    }
    // Lines are read where they lie in the chunk: only field values are cut out of it.
    for (; end !== -1; end = lines.indexOf('\n', start)) {
      this.#line(lines, start, end);
      start = end + 1;
    }
    if (start < lines.length) this.#partial.push(start === 0 ? lines : lines.slice(start));
  }

  /** The stream ended: an event without its closing blank line is discarded. */
  end(): void {
    this.#heldChars = 0;
    this.#partial = [];
    this.#skipLf = false;
    this.#reset();
  }

  /** The line of `buffer` from `start` to `end` (its LF). */
  #line(buffer: string, start: number, end: number): void {
    if (start === end) {
      if (this.#data !== undefined) {
        this.#dispatch({ type: this.#type || 'message', data: this.#data, id: this.#id });
      }
      this.#reset();
      // What is held from here on is the rest of the chunk at most: counted again from it.
      this.#heldChars = buffer.length - end;
      return;
    }
    // Comments (a leading colon), `retry` and unknown fields match none of these.
    const data = fieldValue(buffer, start, end, 'data');
    if (data !== undefined) {
      this.#data = this.#data === undefined ? data : `${this.#data}\n${data}`;
      return;
    }
    const type = fieldValue(buffer, start, end, 'event');
    if (type !== undefined) {
      this.#type = type;
      return;
    }
    const id = fieldValue(buffer, start, end, 'id');
    if (id !== undefined && !id.includes('\0')) this.#id = id;
  }

  #reset(): void {
    this.#type = '';
    this.#data = undefined;
    this.#id = undefined;
  }
}

const COLON = 0x3a;
const SPACE = 0x20;

/**
 * The value of the line of `buffer` from `start` to `end` when that line is the field `name`
 * (the name, then a colon or the end of the line), without the one space after the colon;
 * undefined when it is another line.
 */
function fieldValue(buffer: string, start: number, end: number, name: string): string | undefined {
  const after = start + name.length;
  if (after > end || !buffer.startsWith(name, start)) return undefined;
  if (after === end) return '';
  if (buffer.charCodeAt(after) !== COLON) return undefined;
  const from = after + 1 < end && buffer.charCodeAt(after + 1) === SPACE ? after + 2 : after + 1;
  return buffer.slice(from, end);
}
