import { expect } from 'vitest';

// Stand-ins for the reader's own test.
declare const informer: { store: { list(): unknown[] } };
declare const registry: { get(id: string): object | undefined };
declare const url: string;

// #region readme
import { eventually } from '@vmcp/test-support';

// A predicate:
await eventually(() => informer.store.list().length === 3);
// Assertions (at the ceiling, the last failure is the error):
await eventually(() => expect(registry.get('fetch')).toBeDefined());
// Async, with a ceiling of its own, and resolving with what the check returned:
const list = await eventually(async () => {
  const body = (await (await fetch(`${url}/v1/backends`)).json()) as { backends: unknown[] };
  expect(body.backends).toHaveLength(6);
  return body;
}, 60_000);
console.log(list.backends);
// #endregion readme
