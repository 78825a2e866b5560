import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SseEvent, SseEventTooLargeError, SseParser } from '../src/sse.js';

function parse(...chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return events;
}

describe('SseParser', () => {
  it.each([
    ['LF', 'event: change\nid: 7\ndata: {"a":1}\n\n'],
    ['CRLF', 'event: change\r\nid: 7\r\ndata: {"a":1}\r\n\r\n'],
    ['CR', 'event: change\rid: 7\rdata: {"a":1}\r\r'],
  ])('dispatches an event with %s line endings', (_, text) => {
    expect(parse(text)).toEqual([{ type: 'change', id: '7', data: '{"a":1}' }]);
  });

  it('joins data lines, defaults the type to message, and keeps a value without a space', () => {
    expect(parse('data:one\ndata: two\n\n')).toEqual([
      { type: 'message', id: undefined, data: 'one\ntwo' },
    ]);
  });

  it('ignores comments, retry, unknown fields and events without data', () => {
    expect(parse(': keep-alive\n\nretry: 1000\n\nevent: empty\n\nfoo: bar\ndata: x\n\n')).toEqual([
      { type: 'message', id: undefined, data: 'x' },
    ]);
  });

  it('reads a field only by its exact name, with or without a colon and value', () => {
    expect(parse('datum: x\neventful: y\nidx: 9\ndata\n\n')).toEqual([
      { type: 'message', id: undefined, data: '' },
    ]);
    expect(parse('event\nid\ndata:  two spaces\n\n')).toEqual([
      { type: 'message', id: '', data: ' two spaces' },
    ]);
    expect(parse('id: 1\0\ndata: a\n\n')).toEqual([{ type: 'message', id: undefined, data: 'a' }]);
  });

  it('never dispatches an event cut before its blank line', () => {
    expect(parse('event: change\ndata: {"version":1}\n')).toEqual([]);
    expect(parse('event: change\ndata: {"vers')).toEqual([]);
  });

  it('gives each event only its own id', () => {
    expect(parse('id: 1\ndata: a\n\ndata: b\n\n').map((e) => e.id)).toEqual(['1', undefined]);
  });

  it('gives the same events however the text is split (CRLF split included)', () => {
    const text =
      'retry: 1000\r\n\r\nevent: heartbeat\r\ndata: {"ready":true}\r\n\r\n: c\r\nevent: change\nid: 2\ndata: {"x":"é"}\n\n';
    const whole = parse(text);
    expect(whole).toHaveLength(2);
    fc.assert(
      fc.property(fc.array(fc.nat(text.length), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks = [0, ...points].map((start, i) =>
          text.slice(start, points[i] ?? text.length),
        );
        expect(parse(...chunks)).toEqual(whole);
      }),
    );
  });

  it('gives a line that arrives in many pieces whole, once, whatever its line ending', () => {
    const data = 'x'.repeat(200_000);
    for (const newline of ['\n', '\r\n', '\r']) {
      const text = `event: snapshot${newline}data: ${data}${newline}${newline}`;
      const chunks: string[] = [];
      for (let at = 0; at < text.length; at += 997) chunks.push(text.slice(at, at + 997));
      expect(parse(...chunks)).toEqual([{ type: 'snapshot', id: undefined, data }]);
    }
  });

  it('refuses an event past its limit, counted per event, unfinished line included', () => {
    const events: SseEvent[] = [];
    const parser = new SseParser((event) => events.push(event), 40);
    // Many events, each under the limit, far more than it in all: the count starts again at each.
    for (let i = 0; i < 20; i++) parser.push(`data: ${i}-0123456789\n\n`);
    expect(events).toHaveLength(20);
    parser.push('data: 0123456789');
    parser.push('0123456789');
    expect(() => parser.push('0123456789abcdef')).toThrow(SseEventTooLargeError);
    // The parser dropped what it held: the next event is read whole.
    parser.push('data: next\n\n');
    expect(events.at(-1)?.data).toBe('next');
    // A data line per chunk adds up too.
    expect(() => {
      for (let i = 0; i < 10; i++) parser.push('data: 0123456789\n');
    }).toThrow('an event stream sent an event of more than 40 characters');
  });

  it('drops the pieces of a line cut by end()', () => {
    const events: SseEvent[] = [];
    const parser = new SseParser((event) => events.push(event));
    parser.push('data: par');
    parser.push('tial');
    parser.end();
    parser.push('data: next\n\n');
    expect(events).toEqual([{ type: 'message', id: undefined, data: 'next' }]);
  });
});
