import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APPLY_METADATA_FIELDS,
  compileFieldPaths,
  dropFields,
  eventFieldTree,
  type FieldPath,
} from '../src/drop-before-parse.js';
import { LineReader } from '../src/line-stream.js';
import { ListScanner } from '../src/list-scanner.js';
import { LAST_APPLIED_ANNOTATION } from '../src/transform.js';

/** What dropping means: parse the whole text, then delete each path where its parent is an object. */
function parseThenDelete(text: string, paths: readonly FieldPath[]): unknown {
  const value = JSON.parse(text);
  for (const path of paths) {
    let parent: unknown = value;
    for (const key of path.slice(0, -1)) {
      const isRecord = typeof parent === 'object' && parent !== null && !Array.isArray(parent);
      parent =
        isRecord && Object.hasOwn(parent as object, key) ? (parent as never)[key] : undefined;
    }
    if (typeof parent === 'object' && parent !== null && !Array.isArray(parent)) {
      delete (parent as Record<string, unknown>)[path.at(-1) as string];
    }
  }
  return value;
}

const dropped = (text: string, paths: readonly FieldPath[]): string =>
  dropFields(Buffer.from(text), compileFieldPaths(paths)).toString('utf8');

const MANAGED: FieldPath = ['metadata', 'managedFields'];
const LAST_APPLIED: FieldPath = ['metadata', 'annotations', LAST_APPLIED_ANNOTATION];

describe('dropFields', () => {
  it.each([
    ['the only member', '{"metadata":{"managedFields":[1]}}', '{"metadata":{}}'],
    [
      'the first member',
      '{"metadata":{"managedFields":[1],"name":"a"}}',
      '{"metadata":{"name":"a"}}',
    ],
    [
      'the last member',
      '{"metadata":{"name":"a","managedFields":[1]}}',
      '{"metadata":{"name":"a"}}',
    ],
    [
      'a member between others',
      '{"metadata":{"name":"a","managedFields":[{"x":"}"}],"uid":"u"}}',
      '{"metadata":{"name":"a","uid":"u"}}',
    ],
    [
      'a repeated key, every time',
      '{"metadata":{"managedFields":1,"managedFields":2,"name":"a","managedFields":3}}',
      '{"metadata":{"name":"a"}}',
    ],
    [
      'with whitespace everywhere',
      ' {\n "metadata" : { "name" : "a" ,\t"managedFields" : [ 1 , 2 ] } \n} ',
      ' {\n "metadata" : { "name" : "a" } \n} ',
    ],
    [
      'a key spelled with escapes',
      '{"metadata":{"\\u006danagedFields":[1],"name":"a"}}',
      '{"metadata":{"name":"a"}}',
    ],
    [
      'an annotation key with an escaped slash',
      `{"metadata":{"annotations":{"kubectl.kubernetes.io\\/last-applied-configuration":"{\\"a\\":1}","b":"c"}}}`,
      '{"metadata":{"annotations":{"b":"c"}}}',
    ],
  ])('drops %s', (_name, text, expected) => {
    expect(dropped(text, [MANAGED, LAST_APPLIED])).toBe(expected);
  });

  it.each([
    ['the same key elsewhere', '{"spec":{"metadata":{"managedFields":[1]}}}'],
    ['under a parent that is a list', '{"metadata":[{"managedFields":[1]}]}'],
    ['under a parent that is a string', '{"metadata":"managedFields"}'],
    ['under a parent that is null', '{"metadata":null}'],
    ['a value that is not an object', '["metadata"]'],
    ['a key that only starts like one', '{"metadata":{"managedFieldsX":1}}'],
  ])('keeps %s', (_name, text) => {
    expect(dropped(text, [MANAGED])).toBe(text);
  });

  it('returns the same bytes when it drops nothing', () => {
    const bytes = Buffer.from('{"metadata":{"name":"a"}}');
    expect(dropFields(bytes, compileFieldPaths(APPLY_METADATA_FIELDS))).toBe(bytes);
  });

  it.each([
    ['an unterminated string', '{"metadata":{"managedFields":"abc}}'],
    ['a bracket closing what it did not open', '{"metadata":{"managedFields":[{]}}}'],
    ['a member without a colon', '{"metadata":{"managedFields" [1]}}'],
    ['a member without a value', '{"metadata":{"managedFields":}}'],
    ['a trailing comma', '{"metadata":{"name":"a",}}'],
    ['a key that is not a string', '{"metadata":{name:"a"}}'],
    ['bytes after the value', '{"metadata":{}} {}'],
    ['an object that never ends', '{"metadata":{"managedFields":[1,2'],
  ])('refuses %s (a SyntaxError, never a silent repair)', (_name, text) => {
    expect(() => dropped(text, [MANAGED])).toThrow(SyntaxError);
  });

  it.each([
    [[]],
    [['metadata']],
    [['metadata', 'name']],
    [['metadata', 'namespace']],
    [['metadata', 'uid']],
    [['metadata', 'resourceVersion']],
    [['metadata', 'annotations']],
    [['metadata', 'annotations', 'k8s.io/initial-events-end']],
    [[1]],
  ])('refuses to drop %j', (path) => {
    expect(() => compileFieldPaths([path as unknown as FieldPath])).toThrow(TypeError);
  });
});

// JSON text built by hand, so that it can hold what JSON.stringify never writes: keys spelled
// with escapes, repeated keys, whitespace between any two tokens. Keys never hold a backslash
// once decoded (see list-scanner.test.ts on V8's nodejs/node#63785).
const KEYS = [
  'metadata',
  'annotations',
  'managedFields',
  LAST_APPLIED_ANNOTATION,
  'name',
  'spec',
  'a',
  'x"y',
  'é✓',
  '__proto__',
  '',
];
const space = fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n  ');
/** A key's spelling: JSON.stringify's, with some characters written as `\uXXXX` or `\/`. */
const someKey = fc.oneof(
  fc.constantFrom(...KEYS),
  fc.constantFrom('metadata', 'managedFields', 'annotations', LAST_APPLIED_ANNOTATION, 'a'),
);
const keyText = fc.tuple(someKey, fc.array(fc.boolean(), { maxLength: 60 })).map(
  ([key, escapes]) =>
    `"${[...key]
      .map((char, i) => {
        if (char === '"') return '\\"';
        if (!escapes[i] || char.length > 1) return char;
        return char === '/' && i % 2 === 0
          ? '\\/'
          : `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`;
      })
      .join('')}"`,
);
const scalarText = fc.oneof(
  fc
    .string({ unit: fc.constantFrom('a', '"', '\\', '{', '}', '[', ']', ',', ':', 'é', '😀') })
    .map((text) => JSON.stringify(text)),
  fc.constantFrom('0', '-1.5e3', 'true', 'false', 'null', '12345678901234567890'),
);
const member = (value: fc.Arbitrary<string>) =>
  fc
    .tuple(space, keyText, space, space, value, space)
    .map(([a, k, b, c, v, d]) => `${a}${k}${b}:${c}${v}${d}`);
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarText,
    fc
      .array(fc.tuple(space, tie('value'), space), { maxLength: 3 })
      .map((items) => `[${items.map((parts) => parts.join('')).join(',')}]`),
    fc.array(member(tie('value')), { maxLength: 5 }).map((members) => `{${members.join(',')}}`),
  ),
})).value;
/** An object whose members are often objects too, down to `depth`: where the paths lead. */
const objectText = (depth: number): fc.Arbitrary<string> =>
  fc
    .array(member(depth === 0 ? jsonText : fc.oneof(objectText(depth - 1), jsonText)), {
      minLength: 1,
      maxLength: 5,
    })
    .map((members) => `{${members.join(',')}}`);
const fieldPath = fc.oneof(
  fc.constantFrom<FieldPath>(...APPLY_METADATA_FIELDS, ['a'], ['metadata', 'a'], ['spec']),
  fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }),
);
const paths = fc.array(fieldPath, { minLength: 1, maxLength: 3 }).filter((all) => {
  try {
    compileFieldPaths(all);
    return true;
  } catch {
    return false;
  }
});

describe('dropFields against parse-then-delete', () => {
  it('gives the same value, key order included, for any JSON and any paths', () => {
    let cutSome = 0;
    fc.assert(
      fc.property(
        fc.oneof({ arbitrary: objectText(3), weight: 4 }, { arbitrary: jsonText, weight: 1 }),
        paths,
        space,
        (text, drop, around) => {
          const whole = `${around}${text}${around}`;
          const cut = dropped(whole, drop);
          if (cut !== whole) cutSome++;
          expect(JSON.stringify(JSON.parse(cut))).toBe(
            JSON.stringify(parseThenDelete(whole, drop)),
          );
        },
      ),
      { numRuns: 2000 },
    );
    // The generator reaches the cases that matter: texts from which something is dropped.
    expect(cutSome).toBeGreaterThan(200);
  });

  it('does the same for the objects of a list, however the answer is cut into chunks', () => {
    const item = fc
      .tuple(jsonText, jsonText, fc.constantFrom('{"a":1}', '"x"', '[{"b":[2]}]'))
      .map(
        ([annotations, spec, fields]) =>
          `{"metadata":{"name":"n","managedFields":${fields},"annotations":${annotations}},"spec":${spec}}`,
      );
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (items, rawCuts) => {
          const bytes = Buffer.from(`{"kind":"List","items":[${items.join(',')}],"metadata":{}}`);
          const scanner = new ListScanner(compileFieldPaths(APPLY_METADATA_FIELDS));
          const seen: unknown[] = [];
          let start = 0;
          for (const cut of rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b)) {
            seen.push(...scanner.push(bytes.subarray(start, cut)));
            start = cut;
          }
          seen.push(...scanner.push(bytes.subarray(start)));
          scanner.finish();
          expect(seen).toEqual(items.map((text) => parseThenDelete(text, APPLY_METADATA_FIELDS)));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('dropping before parse on the read paths', () => {
  it('leaves a malformed list item whole, so that JSON.parse says what is wrong', () => {
    const scanner = new ListScanner(compileFieldPaths(APPLY_METADATA_FIELDS));
    expect(() =>
      scanner.push(Buffer.from('{"items":[{"metadata":{"managedFields":[1}}]}')),
    ).toThrow(/JSON/);
  });

  it('cuts the fields from each watch event, under its object, across chunks', async () => {
    const body = new PassThrough();
    const reader = new LineReader(
      body,
      { bytes: () => undefined, held: () => undefined },
      eventFieldTree(compileFieldPaths(APPLY_METADATA_FIELDS)),
    );
    const lines: string[] = [];
    const read = reader.read((line) => void lines.push(line));
    const added = `{"type":"ADDED","object":{"metadata":{"name":"a","managedFields":[{"m":"x"}],"annotations":{"${LAST_APPLIED_ANNOTATION}":"{}","k":"v"}}}}\n`;
    body.write(added.slice(0, 30));
    body.write(added.slice(30));
    // The type after the object, a malformed line (left whole) and a last line without newline.
    body.write('{"object":{"metadata":{"managedFields":1}},"type":"MODIFIED"}\n{"object":[}\n');
    body.end('{"type":"DELETED","object":{"metadata":{"managedFields":[],"name":"b"}}}');
    await read;
    expect(lines).toEqual([
      '{"type":"ADDED","object":{"metadata":{"name":"a","annotations":{"k":"v"}}}}',
      '{"object":{"metadata":{}},"type":"MODIFIED"}',
      '{"object":[}',
      '{"type":"DELETED","object":{"metadata":{"name":"b"}}}',
    ]);
  });
});
