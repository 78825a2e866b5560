import { createDynamicRegistry, type RegistryChange } from '@vmcp/registry';
import { describe, expect, it } from 'vitest';
import { BodyCache } from '../src/http/body-cache.js';
import { backend } from './support/api.js';

describe('BodyCache', () => {
  const registry = createDynamicRegistry([backend('a'), backend('b')]);

  it('holds one snapshot event per version and view, sharing the list body', () => {
    const bodies = new BodyCache();
    const snapshot = registry.snapshot();
    const [head, body, end] = bodies.snapshotEvent(snapshot, 'redacted');
    expect(bodies.snapshotEvent(registry.snapshot(), 'redacted')[1]).toBe(body);
    expect(bodies.list(snapshot, 'redacted').body).toBe(body);
    expect(bodies.snapshotEvent(snapshot, 'secrets')[1]).not.toBe(body);
    expect(`${head}${body}${end}`).toBe(
      `event: snapshot\nid: ${snapshot.version}\ndata: ${JSON.stringify(snapshot)}\n\n`,
    );
  });

  it('serves a reset of the change feed from the same body as the snapshot of its version', () => {
    const bodies = new BodyCache();
    const snapshot = registry.snapshot();
    const reset: RegistryChange = {
      version: snapshot.version,
      upserted: snapshot.backends,
      removed: [],
      reset: true,
    };
    const first = bodies.change(reset, 'secrets');
    const second = bodies.change({ ...reset }, 'secrets');
    expect(first[1]).toBe(second[1]);
    expect(first[1]).toBe(bodies.snapshotEvent(snapshot, 'secrets')[1]);
    expect(Buffer.concat(first).toString()).toMatch(/^event: snapshot\nid: 0\ndata: {"version":0,/);
  });

  it('makes a new body once the version moved', () => {
    const bodies = new BodyCache();
    const moving = createDynamicRegistry([backend('a')]);
    const before = bodies.snapshotEvent(moving.snapshot(), 'redacted')[1];
    moving.upsert(backend('c'));
    const after = bodies.snapshotEvent(moving.snapshot(), 'redacted')[1];
    expect(after).not.toBe(before);
    expect(String(after)).toContain('"id":"c"');
  });
});
