import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineReader, type LineResult } from '../src/line-stream.js';

function reader() {
  const body = new PassThrough();
  const activity: string[] = [];
  const lines = new LineReader(body, {
    bytes: () => activity.push('bytes'),
    held: (until) => activity.push(until === undefined ? 'released' : 'held'),
  });
  return { body, lines, activity };
}

describe('LineReader', () => {
  it('reads lines across chunks and ends with a last line that has no newline', async () => {
    const { body, lines } = reader();
    const seen: string[] = [];
    const read = lines.read((line) => {
      seen.push(line);
      return undefined;
    });
    body.write('{"a":1}\n{"b"');
    body.write(':2}\n\n  \n{"c":3}');
    body.end();
    await expect(read).resolves.toBe('ended');
    expect(seen).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('pauses where a handler asks, and a later read goes on from the next line', async () => {
    const { body, lines } = reader();
    const first: string[] = [];
    const second: string[] = [];
    body.write('one\ntwo\nthree\nfour\n');
    await expect(
      lines.read((line) => {
        first.push(line);
        return line === 'two' ? 'pause' : undefined;
      }),
    ).resolves.toBe('paused');
    expect(body.isPaused()).toBe(true);
    const read = lines.read((line) => {
      second.push(line);
      return undefined;
    });
    body.end('five\n');
    await expect(read).resolves.toBe('ended');
    expect(first).toEqual(['one', 'two']);
    expect(second).toEqual(['three', 'four', 'five']);
  });

  it('holds the body while a handler waits, and reports the hold', async () => {
    const { body, lines, activity } = reader();
    let release: () => void = () => undefined;
    const seen: string[] = [];
    const read = lines.read((line): LineResult => {
      seen.push(line);
      if (line !== 'slow') return undefined;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    body.write('slow\nnext\n');
    await expect.poll(() => seen).toEqual(['slow']);
    expect(body.isPaused()).toBe(true);
    expect(activity).toEqual(['bytes', 'held']);
    release();
    body.end();
    await expect(read).resolves.toBe('ended');
    expect(seen).toEqual(['slow', 'next']);
    expect(activity).toEqual(['bytes', 'held', 'released']);
  });

  it('rejects the next read with a failure that came between two reads', async () => {
    const { body, lines } = reader();
    body.write('one\n');
    await lines.read(() => 'pause');
    body.destroy(new Error('connection reset'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(lines.read(() => undefined)).rejects.toThrow('connection reset');
  });

  it('rejects when the body closes before its end, or a handler throws', async () => {
    const closed = reader();
    const read = closed.lines.read(() => undefined);
    closed.body.destroy();
    await expect(read).rejects.toThrow('watch stream closed before its end');

    const throwing = reader();
    const failing = throwing.lines.read(() => {
      throw new Error('handler failed');
    });
    throwing.body.write('x\n');
    await expect(failing).rejects.toThrow('handler failed');
  });

  it('destroys a body that has not ended on close', () => {
    const { body, lines } = reader();
    lines.close();
    lines.close();
    expect(body.destroyed).toBe(true);
  });
});
