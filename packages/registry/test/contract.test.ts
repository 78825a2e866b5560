import * as vitest from 'vitest';
import {
  type Backend,
  createDynamicRegistry,
  createRegistryReplica,
  type DynamicRegistry,
  type RegistryOperation,
} from '../src/index.js';
import { type ContractSubject, describeRegistryReaderContract } from '../src/testing.js';
import { backend } from './fixtures.js';

/** Applies a contract step to an in-process registry: each upsert is a new revision. */
function applier(registry: DynamicRegistry): ContractSubject['change'] {
  const revisions = new Map<string, number>();
  return async ({ upsert = [], remove = [] }) => {
    const operations: RegistryOperation[] = [];
    for (const id of upsert) {
      const revision = (revisions.get(id) ?? 0) + 1;
      revisions.set(id, revision);
      const next: Backend = backend(id, { baseUrl: `http://${id}.tools.svc:${8000 + revision}` });
      operations.push({ op: 'upsert', backend: next });
    }
    for (const id of remove) operations.push({ op: 'remove', id });
    registry.apply(operations);
  };
}

describeRegistryReaderContract(
  'createDynamicRegistry',
  async () => {
    const registry = createDynamicRegistry([backend('seed')], { initialVersion: 7 });
    return {
      reader: registry,
      change: applier(registry),
      source: async () => registry.snapshot(),
      close: async () => undefined,
    };
  },
  vitest,
);

describeRegistryReaderContract(
  'createRegistryReplica following a registry',
  async () => {
    const source = createDynamicRegistry([backend('seed')], { initialVersion: 40 });
    const replica = createRegistryReplica();
    const stop = new AbortController();
    // What a client across a process boundary does: a snapshot, then the source's changes.
    const first = source.snapshot();
    replica.reset(first.version, first.backends);
    const following = (async () => {
      for await (const change of source.changes({
        sinceVersion: first.version,
        signal: stop.signal,
      })) {
        // Hand it on a tick later, as a transport would.
        await new Promise((resolve) => setImmediate(resolve));
        replica.applyChange(change);
      }
    })();
    return {
      reader: replica,
      change: applier(source),
      source: async () => source.snapshot(),
      close: async () => {
        stop.abort();
        await following;
      },
    };
  },
  vitest,
);
