import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { pathCensor } from '../src/censor.js';
import { createLogger, SECRET_LOG_PATHS } from '../src/logger.js';

const censor = pathCensor(SECRET_LOG_PATHS);

function lineSink(lines: string[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
}

/** The line pino's own redaction writes for an object: the oracle. */
function redactedByPino(object: object): unknown {
  const lines: string[] = [];
  const sink = lineSink(lines);
  const logger = pino(
    { base: null, timestamp: false, redact: { paths: SECRET_LOG_PATHS, censor: '[REDACTED]' } },
    sink,
  );
  logger.info(object);
  const { level: _level, ...rest } = JSON.parse(lines[0] as string);
  return rest;
}

// Objects whose keys include every secret name, nested, with arrays.
const key = fc.constantFrom(
  'headerValue',
  'clientSecret',
  'idpClientSecret',
  'targetClientSecret',
  'authConfig',
  'data',
  'stringData',
  'authorization',
  'name',
  'backend',
  'spec',
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
  ),
}));

describe('pathCensor', () => {
  it("censors exactly what pino's redact censors for the secret paths", () => {
    let censored = 0;
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 5 }), (object) => {
        const result = censor(object);
        if (result !== object) censored++;
        expect(JSON.parse(JSON.stringify(result))).toEqual(redactedByPino(object));
      }),
      { numRuns: 500 },
    );
    // The generator reaches secret fields often enough for the comparison to mean something.
    expect(censored).toBeGreaterThan(100);
  });

  it('never changes the object given, and returns it when nothing matched', () => {
    const object = { backend: { authConfig: { headerValue: 's3cret' }, name: 'a' }, name: 'b' };
    const before = structuredClone(object);
    expect(censor(object)).toEqual({
      backend: { authConfig: { headerValue: '[REDACTED]' }, name: 'a' },
      name: 'b',
    });
    expect(object).toEqual(before);
    const plain = { name: 'fetch', kind: 'MCPServer', version: 3 };
    expect(censor(plain)).toBe(plain);
  });

  it("censors the sidecar logger's lines and its child loggers' bindings", () => {
    const lines: string[] = [];
    const logger = createLogger('info', lineSink(lines));
    logger
      .child({ authorization: 'Bearer child-secret' })
      .child({ request: { authorization: 'x-secret' } })
      .info({ backend: { authConfig: { clientSecret: 'line-secret' } } }, 'hello');
    const line = lines.join('');
    expect(line).not.toMatch(/child-secret|x-secret|line-secret/);
    expect(line.match(/\[REDACTED\]/g)).toHaveLength(3);
    expect(JSON.parse(line)).toMatchObject({ msg: 'hello', name: 'vmcp-backend-watcher' });
  });
});
