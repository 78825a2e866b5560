import { readFileSync } from 'node:fs';
import { AUTH_STRATEGY_TYPES, type Backend } from '@vmcp/registry';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Schema {
  properties?: Record<string, unknown>;
  required?: string[];
  oneOf?: Schema[];
}
const doc = parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, Schema> };
};

// Every field of the registry's Backend: the type forces this literal to stay complete.
const everyField: Required<Backend> = {
  id: 'a',
  name: 'a',
  baseUrl: 'http://a',
  transportType: 'sse',
  type: 'entry',
  caBundlePath: '/ca',
  caBundleData: 'pem',
  healthStatus: 'healthy',
  authConfig: { type: 'unauthenticated' },
  authConfigRef: 'auth',
  headerForward: {},
  metadata: {},
};

describe('openapi.yaml', () => {
  it('documents exactly the routes the server serves, GET only', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/healthz',
        '/metrics',
        '/readyz',
        '/v1/backends',
        '/v1/backends/{id}',
        '/v1/events',
        '/v1/explain/{name}',
      ].sort(),
    );
    for (const operations of Object.values(doc.paths))
      expect(Object.keys(operations)).toEqual(['get']);
  });

  it('documents the answers of the backends routes', () => {
    expect(Object.keys(doc.paths['/v1/backends']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '304', '400', '401']),
    );
    expect(Object.keys(doc.paths['/v1/backends/{id}']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '404']),
    );
  });

  it('documents on every route what any request can get: 400, 405 with Allow, 414, 431', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      expect(Object.keys(operations.get?.responses ?? {}), path).toEqual(
        expect.arrayContaining(['400', '405', '414', '431']),
      );
    }
    expect(JSON.stringify(doc.components)).toContain('"Allow"');
  });

  it('documents 503 with Retry-After where a cap refuses: long-polls, event streams, fresh explains', () => {
    for (const path of ['/v1/backends', '/v1/events', '/v1/explain/{name}']) {
      expect(doc.paths[path]?.get?.responses['503'], path).toEqual({
        $ref: '#/components/responses/Busy',
      });
    }
    const busy = (doc.components as unknown as { responses: Record<string, { headers?: object }> })
      .responses.Busy;
    expect(Object.keys(busy?.headers ?? {})).toEqual(['Retry-After']);
  });

  it('describes every field of the registry Backend, with its required ones', () => {
    const backend = doc.components.schemas.Backend;
    expect(Object.keys(backend?.properties ?? {}).sort()).toEqual(Object.keys(everyField).sort());
    expect(backend?.required?.sort()).toEqual(
      ['id', 'name', 'baseUrl', 'transportType', 'healthStatus', 'metadata'].sort(),
    );
  });

  it('describes every auth strategy type', () => {
    const types = (doc.components.schemas.AuthStrategy?.oneOf ?? []).map(
      (s) => (s.properties?.type as { const?: string } | undefined)?.const,
    );
    expect(types.sort()).toEqual([...AUTH_STRATEGY_TYPES].sort());
  });
});
