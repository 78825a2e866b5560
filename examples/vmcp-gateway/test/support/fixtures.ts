import type { Backend } from '@vmcp/registry';
import { createJsonLogger, type Logger } from '../../src/log.js';

/** A registry backend for an example server at `url`. */
export function backendAt(id: string, url: string, overrides: Partial<Backend> = {}): Backend {
  return {
    id,
    name: id,
    baseUrl: url,
    transportType: url.endsWith('/sse') ? 'sse' : 'streamable-http',
    type: 'entry',
    healthStatus: 'healthy',
    metadata: {},
    ...overrides,
  };
}

/** A JSON logger whose every line is kept, so that a test can search what was logged. */
export function capturingLogger(): { logger: Logger; text(): string } {
  const lines: string[] = [];
  return {
    logger: createJsonLogger((line) => lines.push(line), 'trace'),
    text: () => lines.join(''),
  };
}

/** Retries fast, so that a test of a backend coming back does not wait 30 s between attempts. */
export const FAST_RETRY = { initialMs: 50, maxMs: 500 } as const;

/** The catalog names of example servers with the default tools (`echo`, `whoami`), sorted. */
export function toolsOf(...ids: string[]): string[] {
  return ids.flatMap((id) => [`${id}_echo`, `${id}_whoami`]).sort();
}
