import { LAST_APPLIED_ANNOTATION } from './transform.js';

/**
 * A field of an object, as the keys from its root: `['metadata', 'managedFields']`. Keys are
 * whole keys, so an annotation's name, dots and slashes included, is one key.
 */
export type FieldPath = readonly string[];

/**
 * The fields {@link dropApplyMetadata} drops (`metadata.managedFields` and kubectl's
 * last-applied annotation), for an informer's `dropBeforeParse`.
 */
export const APPLY_METADATA_FIELDS: readonly FieldPath[] = Object.freeze([
  Object.freeze(['metadata', 'managedFields']),
  Object.freeze(['metadata', 'annotations', LAST_APPLIED_ANNOTATION]),
]);

/**
 * Fields that may not be dropped, nor anything that holds them: what identifies an object in a
 * cache, and the annotation by which a watch-list's bookmark ends its initial events.
 */
const PROTECTED: readonly FieldPath[] = [
  ['metadata', 'name'],
  ['metadata', 'namespace'],
  ['metadata', 'uid'],
  ['metadata', 'resourceVersion'],
  ['metadata', 'annotations', 'k8s.io/initial-events-end'],
];

/** A member whose whole value is dropped. */
const DROP = 'drop';

/**
 * Compiled {@link FieldPath}s: per key of an object, either {@link DROP} or the tree of the
 * member's own object. The keys are kept as their UTF-8 bytes too, so that a key read from JSON
 * is matched without being decoded.
 */
export interface FieldTree {
  readonly children: ReadonlyMap<string, FieldTree | typeof DROP>;
  /** The keys of `children`, encoded, in the same order as `values`. */
  readonly keys: readonly Buffer[];
  readonly values: readonly (FieldTree | typeof DROP)[];
}

type Node = {
  children: Map<string, Node | typeof DROP>;
  keys: Buffer[];
  values: (Node | typeof DROP)[];
};

const node = (): Node => ({ children: new Map(), keys: [], values: [] });

/** Fills `keys` and `values` from `children`, down the tree. */
function encodeKeys(tree: Node): Node {
  for (const [key, child] of tree.children) {
    tree.keys.push(Buffer.from(key, 'utf8'));
    tree.values.push(child === DROP ? DROP : encodeKeys(child));
  }
  return tree;
}

/**
 * Compiles the paths to drop, once per informer. Throws a `TypeError` for an empty path, a key
 * that is not a string, or a path that would drop what identifies the object (`metadata`,
 * `metadata.name`, `namespace`, `uid`, `resourceVersion`, `metadata.annotations` or the
 * `k8s.io/initial-events-end` annotation).
 */
export function compileFieldPaths(paths: readonly FieldPath[]): FieldTree {
  const root = node();
  for (const path of paths) {
    if (
      !Array.isArray(path) ||
      path.length === 0 ||
      !path.every((key) => typeof key === 'string')
    ) {
      throw new TypeError(
        `dropBeforeParse: each path is a non-empty list of keys, not ${JSON.stringify(path)}`,
      );
    }
    const guarded = PROTECTED.find((kept) => path.every((key, i) => kept[i] === key));
    if (guarded !== undefined) {
      throw new TypeError(
        `dropBeforeParse: ${JSON.stringify(path)} would drop ${guarded.join('.')}, which the cache and the watch need`,
      );
    }
    let parent = root;
    for (const [i, key] of path.entries()) {
      const child = parent.children.get(key);
      if (child === DROP) break;
      if (i === path.length - 1) {
        parent.children.set(key, DROP);
        break;
      }
      const next = child ?? node();
      parent.children.set(key, next);
      parent = next;
    }
  }
  return encodeKeys(root);
}

/** The tree of a watch event (`{"type":…,"object":{…}}`): the same fields, under `object`. */
export function eventFieldTree(object: FieldTree): FieldTree {
  return {
    children: new Map([['object', object]]),
    keys: [Buffer.from('object')],
    values: [object],
  };
}

/** The bytes of JSON's structural characters, for the scans over raw JSON (here and the list's). */
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const COLON = 0x3a;
const COMMA = 0x2c;
/** Bytes of a string read one by one before the rest is searched natively (a call costs more). */
const SHORT_STRING = 48;

const isWhitespace = (c: number | undefined): boolean =>
  c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Whether `c` ends a number or a literal (or shows, where one starts, that a value is missing). */
const endsScalar = (c: number): boolean =>
  c === COMMA ||
  c === CLOSE_BRACE ||
  c === CLOSE_BRACKET ||
  c === OPEN_BRACE ||
  c === OPEN_BRACKET ||
  c === QUOTE ||
  c === COLON ||
  isWhitespace(c);

/** The text of one JSON value with some members cut out: a pass over its bytes. */
class Pruner {
  readonly #bytes: Buffer;
  /** Byte ranges `[from, to)` to leave out, in order and disjoint. */
  readonly cuts: number[] = [];
  /** Whether the last {@link member} read is one to drop. */
  #dropped = false;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  fail(at: number, problem: string): never {
    throw new SyntaxError(`not well-formed JSON at byte ${at}: ${problem}`);
  }

  /** The first byte at or after `at` that is not whitespace. */
  skipWhitespace(at: number): number {
    const bytes = this.#bytes;
    let i = at;
    while (isWhitespace(bytes[i])) i++;
    return i;
  }

  /**
   * `at` is an opening quote: the position after the closing one. A string's first bytes are read
   * one by one; a long one (an annotation holding a whole object) is searched natively.
   */
  endOfString(at: number): number {
    const bytes = this.#bytes;
    let i = at + 1;
    const short = Math.min(bytes.length, i + SHORT_STRING);
    for (; i < short; i++) {
      const c = bytes[i];
      if (c === QUOTE) return i + 1;
      if (c === BACKSLASH) i++;
    }
    for (;;) {
      const quote = i < bytes.length ? bytes.indexOf(QUOTE, i) : -1;
      if (quote < 0) return this.fail(at, 'a string never ends');
      let backslashes = 0;
      for (let k = quote - 1; k >= i && bytes[k] === BACKSLASH; k--) backslashes++;
      if (backslashes % 2 === 0) return quote + 1;
      i = quote + 1;
    }
  }

  /**
   * `at` starts a value: the position after it. Strings and the nesting of objects and arrays are
   * checked; the rest of a value (numbers, literals) is left to `JSON.parse`, where it is kept.
   */
  endOfValue(at: number): number {
    const first = this.#bytes[at];
    if (first === QUOTE) return this.endOfString(at);
    if (first === OPEN_BRACE || first === OPEN_BRACKET) return this.endOfContainer(at);
    return this.endOfScalar(at);
  }

  /** `at` starts a number or a literal: the position of the first byte that cannot be in one. */
  endOfScalar(at: number): number {
    const bytes = this.#bytes;
    let i = at;
    while (i < bytes.length && !endsScalar(bytes[i] as number)) i++;
    if (i === at) this.fail(at, 'a value is missing');
    return i;
  }

  /** `at` is the `{` or `[` of a value whose members are all kept: the position after its end. */
  endOfContainer(at: number): number {
    const bytes = this.#bytes;
    /** The closing bracket each open one expects, innermost last. */
    const closers: number[] = [];
    for (let i = at; i < bytes.length; i++) {
      const c = bytes[i] as number;
      if (c === QUOTE) i = this.endOfString(i) - 1;
      else if (c === OPEN_BRACE) closers.push(CLOSE_BRACE);
      else if (c === OPEN_BRACKET) closers.push(CLOSE_BRACKET);
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && this.closesAll(closers, c, i)) {
        return i + 1;
      }
    }
    return this.fail(at, 'an object or array never ends');
  }

  /** The bracket `c` at `at` closes the innermost open one: whether none is left open. */
  closesAll(closers: number[], c: number, at: number): boolean {
    if (closers.pop() !== c) this.fail(at, 'a bracket closes what it did not open');
    return closers.length === 0;
  }

  /**
   * What `tree` says of the key whose string (quotes included) is `[from, to)`: its bytes are
   * compared with the tree's keys; only a key written with escapes is decoded.
   */
  childFor(tree: FieldTree, from: number, to: number): FieldTree | typeof DROP | undefined {
    const bytes = this.#bytes;
    const length = to - from - 2;
    for (let i = from + 1; i < to - 1; i++) {
      if (bytes[i] === BACKSLASH) {
        return tree.children.get(JSON.parse(bytes.toString('utf8', from, to)) as string);
      }
    }
    const { keys } = tree;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as Buffer;
      if (key.length !== length) continue;
      let j = 0;
      while (j < length && key[j] === bytes[from + 1 + j]) j++;
      if (j === length) return tree.values[k];
    }
    return undefined;
  }

  /**
   * `at` is the `{` of an object whose members `tree` may drop: records the cuts (a dropped member
   * with the comma that separated it from a kept one) and returns the position after its `}`.
   */
  object(at: number, tree: FieldTree): number {
    const bytes = this.#bytes;
    let i = this.skipWhitespace(at + 1);
    if (bytes[i] === CLOSE_BRACE) return i + 1;
    let keptAny = false;
    /** Where the member being read starts: after the `{` or the `,` before it. */
    let memberStart = at + 1;
    for (;;) {
      const next = this.member(i, tree);
      const separator = bytes[next];
      if (!this.#dropped) keptAny = true;
      // Before any kept member: the member and the comma after it; after one: the comma before.
      else if (keptAny) this.cut(memberStart - 1, next);
      else this.cut(memberStart, separator === COMMA ? next + 1 : next);
      if (separator === CLOSE_BRACE) return next + 1;
      memberStart = next + 1;
      i = this.skipWhitespace(memberStart);
    }
  }

  /**
   * `at` starts a member of an object whose members `tree` may drop: reads its key, its colon and
   * its value (looking into the value where `tree` leads), and returns the position of the comma
   * or the `}` after it.
   */
  member(at: number, tree: FieldTree): number {
    const bytes = this.#bytes;
    if (bytes[at] !== QUOTE) this.fail(at, 'a key is missing');
    const keyEnd = this.endOfString(at);
    const child = this.childFor(tree, at, keyEnd);
    const colon = this.skipWhitespace(keyEnd);
    if (bytes[colon] !== COLON) this.fail(colon, 'a colon is missing');
    const valueStart = this.skipWhitespace(colon + 1);
    const valueEnd =
      child !== undefined && child !== DROP && bytes[valueStart] === OPEN_BRACE
        ? this.object(valueStart, child)
        : this.endOfValue(valueStart);
    const next = this.skipWhitespace(valueEnd);
    if (bytes[next] !== COMMA && bytes[next] !== CLOSE_BRACE) {
      this.fail(next, 'a comma or a closing brace is missing');
    }
    this.#dropped = child === DROP;
    return next;
  }

  cut(from: number, to: number): void {
    const cuts = this.cuts;
    // A cut that starts where the last one ended extends it (members dropped one after another).
    if (cuts.length > 0 && cuts[cuts.length - 1] === from) cuts[cuts.length - 1] = to;
    else cuts.push(from, to);
  }

  /** The bytes with the cuts left out. */
  kept(): Buffer {
    const bytes = this.#bytes;
    const cuts = this.cuts;
    let size = bytes.length;
    for (let k = 0; k < cuts.length; k += 2) size -= (cuts[k + 1] as number) - (cuts[k] as number);
    const out = Buffer.allocUnsafe(size);
    let written = 0;
    let from = 0;
    for (let k = 0; k < cuts.length; k += 2) {
      written += bytes.copy(out, written, from, cuts[k]);
      from = cuts[k + 1] as number;
    }
    bytes.copy(out, written, from);
    return out;
  }
}

/**
 * The JSON text `bytes` (one value) without the members `tree` names: the same as parsing it and
 * deleting those fields where they are (a field whose parent is not an object is left alone;
 * every member of a repeated key is dropped), but the dropped bytes are never decoded or parsed.
 * Returns `bytes` itself when nothing is dropped. Throws a `SyntaxError` for text whose structure
 * it cannot follow (strings, nesting, members of the objects it looks into). A dropped value is
 * only followed to its end, not checked: its numbers, literals, escapes, control characters and
 * separators are never looked at, so text that `JSON.parse` would refuse only inside a dropped
 * value is accepted (the kept bytes are left to `JSON.parse`, which checks them in full).
 */
export function dropFields(bytes: Buffer, tree: FieldTree): Buffer {
  const pruner = new Pruner(bytes);
  const start = pruner.skipWhitespace(0);
  if (bytes[start] !== OPEN_BRACE) return bytes;
  const end = pruner.skipWhitespace(pruner.object(start, tree));
  if (end !== bytes.length) pruner.fail(end, 'bytes after the value');
  return pruner.cuts.length === 0 ? bytes : pruner.kept();
}

/**
 * {@link dropFields} with `tree`, or `bytes` whole when there is no tree or the cut cannot follow
 * their structure: the parse that comes next says what is wrong with them.
 */
export function dropFieldsOrKeep(bytes: Buffer, tree: FieldTree | undefined): Buffer {
  if (tree === undefined) return bytes;
  try {
    return dropFields(bytes, tree);
  } catch {
    return bytes;
  }
}
