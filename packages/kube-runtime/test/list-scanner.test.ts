import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ListScanner } from '../src/list-scanner.js';

/** Scans `text` cut at the given byte offsets; returns the items and the metadata. */
function scan(bytes: Buffer, cuts: number[] = []) {
  const scanner = new ListScanner();
  const items: unknown[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    items.push(...scanner.push(bytes.subarray(start, cut)));
    start = cut;
  }
  items.push(...scanner.push(bytes.subarray(start)));
  return { items, metadata: scanner.finish() };
}

// JSON values with the characters that matter to a scanner: quotes, backslashes, braces and
// brackets inside strings, multi-byte UTF-8, nesting. Keys leave out what JSON escapes: V8's
// JSON.parse (Node 24 and 26) can decode an escaped key wrongly once it has parsed an object
// whose key was a backslash (nodejs/node#63785), which would fail this property for V8's sake.
// Kubernetes keys (qualified names, ConfigMap keys) never need escaping.
const structural = ['a', '{', '}', '[', ']', ':', ',', 'é', '—', '✓', '😀', ' '];
const text = fc.string({ unit: fc.constantFrom(...structural, '"', '\\', '\n'), maxLength: 12 });
const key = fc.string({ unit: fc.constantFrom(...structural), maxLength: 12 });
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 3 }),
    fc.dictionary(key, tie('json'), { maxKeys: 3 }),
  ),
})).json;
const item = fc.record({
  metadata: fc.record({ name: text, annotations: fc.dictionary(key, text, { maxKeys: 3 }) }),
  spec: fc.dictionary(key, value, { maxKeys: 3 }),
});

describe('ListScanner', () => {
  it('hands out every item and the metadata, however the answer is cut', () => {
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 6 }),
        fc.record({ resourceVersion: fc.string(), continue: fc.string() }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (items, metadata, metadataFirst, rawCuts) => {
          const list = metadataFirst
            ? { kind: 'ThingList', apiVersion: 'v1', metadata, items }
            : { apiVersion: 'v1', items, kind: 'ThingList', metadata };
          const bytes = Buffer.from(JSON.stringify(list, null, rawCuts.length % 2 ? 1 : 0));
          const cuts = rawCuts.map((cut) => cut % (bytes.length + 1));
          const result = scan(bytes, cuts);
          expect(result.items).toEqual(items);
          expect(result.metadata).toEqual(metadata);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('cuts every byte on its own', () => {
    const items = [
      { metadata: { name: 'a', annotations: { note: 'a "quoted" {brace} [bracket] \\ é ✓' } } },
      { metadata: { name: 'b' }, spec: { nested: [[{ x: ['}'] }], {}] } },
    ];
    const bytes = Buffer.from(
      JSON.stringify({ kind: 'List', metadata: { resourceVersion: '7' }, items }),
    );
    const cuts = Array.from({ length: bytes.length }, (_, i) => i);
    expect(scan(bytes, cuts)).toEqual({ items, metadata: { resourceVersion: '7' } });
  });

  it('reads an empty list and a list without metadata', () => {
    expect(scan(Buffer.from('{"kind":"List","items":[],"metadata":{}}'))).toEqual({
      items: [],
      metadata: {},
    });
    expect(scan(Buffer.from('{"items":[{"a":1}]}\n'))).toEqual({ items: [{ a: 1 }], metadata: {} });
  });

  it('looks for items and metadata at the top level only', () => {
    const list = {
      kind: 'List',
      metadata: { resourceVersion: '1' },
      items: [{ metadata: { resourceVersion: '2' }, items: [{ not: 'an item' }] }],
    };
    expect(scan(Buffer.from(JSON.stringify(list)))).toEqual({
      items: list.items,
      metadata: { resourceVersion: '1' },
    });
  });

  it.each([
    ['a truncated answer', '{"items":[{"a":1},{"b":', /ended before it was complete/],
    ['an item that is not JSON', '{"items":[{"a":tru}]}', /JSON/],
    ['bytes after the end', '{"items":[]} {', /after its end|second value/],
    ['too many closings', '{"items":[]}}', /after its end|closes more/],
  ])('fails on %s', (_name, answer, message) => {
    expect(() => scan(Buffer.from(answer))).toThrow(message);
  });
});
