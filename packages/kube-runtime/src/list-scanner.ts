import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  dropFieldsOrKeep,
  type FieldTree,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from './drop-before-parse.js';

/** What a list answer says besides its items. */
export interface ListMetadata {
  resourceVersion?: string;
  continue?: string;
}

/** Top-level strings longer than this are values, not the keys looked for. */
const MAX_KEY_BYTES = 64;

/**
 * Reads a Kubernetes list answer (`{"kind":…,"metadata":{…},"items":[{…},…]}`) chunk by chunk
 * and hands out each item as soon as its bytes are complete, parsed on its own. The answer is
 * never held whole, neither as one string nor as one parsed tree: a list of thousands of objects
 * (the watch cache serves `resourceVersion=0` lists unpaginated) costs the objects kept, not
 * several times the answer. It tracks only nesting depth and strings (with their escapes), which
 * is enough to find where each top-level value and each item starts and ends; each item and the
 * list's `metadata` are then parsed by `JSON.parse`, so malformed JSON still fails loudly.
 */
export class ListScanner {
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Bytes of the string being read at depth 1 (a key, or a short value). */
  #keyBytes: number[] | undefined;
  #lastString: string | undefined;
  /** The top-level key whose value is being read. */
  #key: string | undefined;
  #inItems = false;
  /** The value being captured: an item (depth 3) or the list's metadata (depth 2). */
  #capture: { kind: 'item' | 'metadata'; depth: number; pieces: Buffer[] } | undefined;
  #closed = false;
  #metadata: ListMetadata = {};
  /** The buffer values that span chunks are joined in (see {@link #joined}). */
  #scratch: Buffer = Buffer.alloc(0);
  /** Members cut from each item's bytes before it is parsed. */
  readonly #drop: FieldTree | undefined;

  /** `drop`: the fields to cut from each item before it is parsed (see `dropFields`). */
  constructor(drop?: FieldTree) {
    this.#drop = drop;
  }

  /** Scans one chunk; returns the items it completed, in order. */
  // biome-ignore lint/complexity/noExcessiveCognitiveComplexity: one loop over every byte of every list, a branch per byte class, kept free of calls per byte
  push(chunk: Buffer): unknown[] {
    if (this.#closed && chunk.length > 0 && !isWhitespace(chunk)) {
      throw new Error('list answer has bytes after its end');
    }
    const items: unknown[] = [];
    let captureStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (this.#inString && this.#keyBytes === undefined && !this.#escape) {
        // Inside a string (most of the bytes): jump to the next quote natively, then see whether
        // the backslashes right before it escape it.
        const quote = chunk.indexOf(QUOTE, i);
        if (quote < 0) {
          this.#escape = trailingBackslashes(chunk, i, chunk.length) % 2 === 1;
          break;
        }
        if (trailingBackslashes(chunk, i, quote) % 2 === 0) this.#inString = false;
        i = quote;
        continue;
      }
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === BACKSLASH) this.#escape = true;
        else if (c === QUOTE) {
          this.#inString = false;
          if (this.#keyBytes !== undefined) {
            this.#lastString = Buffer.from(this.#keyBytes).toString('utf8');
            this.#keyBytes = undefined;
          }
        } else if (this.#keyBytes !== undefined) {
          if (this.#keyBytes.length < MAX_KEY_BYTES) this.#keyBytes.push(c);
          else this.#keyBytes = undefined;
        }
        continue;
      }
      if (c === QUOTE) {
        this.#inString = true;
        this.#lastString = undefined;
        if (this.#depth === 1) this.#keyBytes = [];
      } else if (c === COLON) {
        if (this.#depth === 1) this.#key = this.#lastString;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.#closed) throw new Error('list answer has a second value');
        this.#depth++;
        if (this.#depth === 2 && this.#key === 'items' && c === OPEN_BRACKET) {
          this.#inItems = true;
        } else if (this.#depth === 2 && this.#key === 'metadata' && c === OPEN_BRACE) {
          this.#capture = { kind: 'metadata', depth: 2, pieces: [] };
          captureStart = i;
        } else if (this.#depth === 3 && this.#inItems && this.#capture === undefined) {
          this.#capture = { kind: 'item', depth: 3, pieces: [] };
          captureStart = i;
        }
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.#depth === 0) throw new Error('list answer closes more than it opened');
        const capture = this.#capture;
        if (capture !== undefined && this.#depth === capture.depth) {
          capture.pieces.push(chunk.subarray(captureStart, i + 1));
          this.#capture = undefined;
          const bytes = this.#joined(capture.pieces);
          const value = JSON.parse(
            (capture.kind === 'item' ? dropFieldsOrKeep(bytes, this.#drop) : bytes).toString(
              'utf8',
            ),
          );
          if (capture.kind === 'item') items.push(value);
          else this.#metadata = value as ListMetadata;
        }
        this.#depth--;
        if (this.#depth === 1) {
          this.#inItems = false;
          this.#key = undefined;
        } else if (this.#depth === 0) this.#closed = true;
      }
    }
    if (this.#capture !== undefined) this.#capture.pieces.push(chunk.subarray(captureStart));
    return items;
  }

  /**
   * The pieces of one value as one buffer: the piece itself, or the pieces copied into a buffer
   * the scanner reuses for every value (grown to the largest), so that joining a list's large
   * items allocates no buffer per item. Valid until the next call: the bytes are parsed (copied
   * into a string) at once.
   */
  #joined(pieces: Buffer[]): Buffer {
    if (pieces.length === 1) return pieces[0] as Buffer;
    let size = 0;
    for (const piece of pieces) size += piece.length;
    if (this.#scratch.length < size) {
      this.#scratch = Buffer.allocUnsafeSlow(Math.max(size, this.#scratch.length * 2));
    }
    let at = 0;
    for (const piece of pieces) at += piece.copy(this.#scratch, at);
    return this.#scratch.subarray(0, size);
  }

  /** The list's metadata, once the answer has ended; throws when it ended early. */
  finish(): ListMetadata {
    if (!this.#closed) throw new Error('list answer ended before it was complete');
    return this.#metadata;
  }
}

/** How many backslashes end `chunk[from, to)`. */
function trailingBackslashes(chunk: Buffer, from: number, to: number): number {
  let count = 0;
  for (let k = to - 1; k >= from && chunk[k] === BACKSLASH; k--) count++;
  return count;
}

function isWhitespace(chunk: Buffer): boolean {
  for (const c of chunk) if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  return true;
}
