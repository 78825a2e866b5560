// Stand-ins for the reader's own program.
declare const token: string;
declare const signal: AbortSignal;
declare function aggregate(backends: readonly object[]): string[];

// #region readme
import { memoByVersion } from '@vmcp/registry';
import { connectRegistry } from '@vmcp/registry-client';

await using registry = connectRegistry({ url: 'http://127.0.0.1:8080', token, signal });
await registry.ready; // the first snapshot of a ready sidecar is held (its /readyz is 200)

// Derived data, recomputed on the first read after the version moved, never on the change.
const capabilities = memoByVersion(registry, () => aggregate(registry.list()));
await capabilities();

for await (const change of registry.changes({ signal })) {
  // every version in order; `change.reset` when the whole content was replaced
  console.log(change.version, change.reset === true);
}
// #endregion readme
