import { describe, expect, it } from 'vitest';
import { childLogger, type Logger, silentLogger } from '../src/index.js';

/** A logger without `child`, as `console` is: records each call's arguments. */
function consoleLike() {
  const calls: unknown[][] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      calls.push([level, ...args]);
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, calls };
}

describe('childLogger', () => {
  it("uses the logger's own child where it has one (pino)", () => {
    const child = consoleLike().logger;
    const bindings: Record<string, unknown>[] = [];
    const parent: Logger = {
      ...consoleLike().logger,
      child: (given) => {
        bindings.push(given);
        return child;
      },
    };
    expect(childLogger(parent, { controller: 'backends' })).toBe(child);
    expect(bindings).toEqual([{ controller: 'backends' }]);
  });

  it('adds the bindings to each call of a logger without child (console), in both call shapes', () => {
    const { logger, calls } = consoleLike();
    const bound = childLogger(logger, { controller: 'backends' });
    bound.info({ name: 'fetch' }, 'reconciled');
    bound.warn('resync');
    bound.debug({ name: 'fetch' });
    bound.error({ controller: 'overridden' }, 'failed');
    expect(calls).toEqual([
      ['info', { controller: 'backends', name: 'fetch' }, 'reconciled'],
      ['warn', { controller: 'backends' }, 'resync'],
      // No `undefined` message argument for console to print.
      ['debug', { controller: 'backends', name: 'fetch' }],
      ['error', { controller: 'overridden' }, 'failed'],
    ]);
  });

  it("nests: a child's child carries both bindings", () => {
    const { logger, calls } = consoleLike();
    childLogger(childLogger(logger, { informer: 'mcpservers' }), { namespace: 'tools' }).info(
      'synced',
    );
    expect(calls).toEqual([['info', { informer: 'mcpservers', namespace: 'tools' }, 'synced']]);
  });

  it('is the silent logger when there is none', () => {
    expect(childLogger(undefined, { controller: 'backends' })).toBe(silentLogger);
  });

  it('takes console as it is', () => {
    const logger: Logger = console;
    expect(typeof childLogger(logger, { controller: 'backends' }).info).toBe('function');
  });
});
