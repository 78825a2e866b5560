// #region readme
import { readFileSync } from 'node:fs';
import { memoByVersion } from '@vmcp/registry';
import { connectRegistry } from '@vmcp/registry-client';

// The sidecar beside this container, and its API token: the file its --api-token-file reads,
// mounted here too (without a token, secret values arrive as [REDACTED]).
const url = process.env.VMCP_SIDECAR_URL ?? 'http://127.0.0.1:8080';
const token = readFileSync(process.env.VMCP_API_TOKEN_FILE ?? '/var/run/vmcp/token', 'utf8').trim();
const stop = new AbortController(); // runs until Ctrl-C or SIGTERM
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stop.abort());

await using registry = connectRegistry({ url, token, signal: stop.signal });
await registry.ready; // the first snapshot of a ready sidecar is held (its /readyz is 200)

// Derived data, recomputed on the first read after the version moved, never on the change.
const names = memoByVersion(registry, () => registry.list().map((backend) => backend.id));
console.log(await names()); // [ 'fetch', 'github' ]

for await (const change of registry.changes({ signal: stop.signal })) {
  // every version in order; `change.reset` when the whole content was replaced
  console.log(change.version, change.reset === true, await names()); // 3 false [ 'fetch', 'github', 'wiki' ]
}
// #endregion readme
