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
 * An incremental `text/event-stream` parser, as the WHATWG HTML standard describes it: lines
 * end with LF, CRLF or CR; `data` lines accumulate; a blank line dispatches; comments and
 * `retry:` are ignored; an event without data is not dispatched. Text that ends in the middle
 * of an event is held until the rest arrives, and dropped by {@link end}: a cut connection never
 * yields a partial event.
 */
export class SseParser {
  readonly #dispatch: (event: SseEvent) => void;
  #buffer = '';
  #skipLf = false;
  #type = '';
  #data: string[] = [];
  #id: string | undefined;

  constructor(dispatch: (event: SseEvent) => void) {
    this.#dispatch = dispatch;
  }

  /** Feeds decoded text (any split); dispatches every event it completes. */
  push(text: string): void {
    let lines = text;
    // A CR that ended the previous chunk ended its line; an LF right after it is its other half.
    if (this.#skipLf && lines.startsWith('\n')) lines = lines.slice(1);
    this.#skipLf = false;
    if (lines.includes('\r')) {
      this.#skipLf = lines.endsWith('\r');
      lines = lines.replace(/\r\n?/g, '\n');
    }
    const buffer = this.#buffer + lines;
    let start = 0;
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
      this.#line(buffer.slice(start, end));
      start = end + 1;
    }
    this.#buffer = start === 0 ? buffer : buffer.slice(start);
  }

  /** The stream ended: an event without its closing blank line is discarded. */
  end(): void {
    this.#buffer = '';
    this.#skipLf = false;
    this.#reset();
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) {
        this.#dispatch({
          type: this.#type || 'message',
          data: this.#data.join('\n'),
          id: this.#id,
        });
      }
      this.#reset();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#type = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }

  #reset(): void {
    this.#type = '';
    this.#data = [];
    this.#id = undefined;
  }
}
