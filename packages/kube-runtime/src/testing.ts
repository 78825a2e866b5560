/**
 * @vmcp/kube-runtime/testing: helpers for the tests of programs built on the runtime (client-go's
 * `tools/cache/testing`, k8s.io/utils' fake clock). Not for production code.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Store } from './store.js';
import type { KubeObject, ReadonlyStore } from './types.js';

export { FakeClock } from './clock.js';

/**
 * A read-only store holding `objects`, with the given indexes: the same cache an informer hands
 * out (objects deep-frozen, `metadata.managedFields` dropped, keys `namespace/name`), for testing
 * code that reads one, such as a controller's map functions.
 *
 * @example
 * const store = readonlyStoreOf([configMap('ca')], { indexes: { byOwner: (o) => [ownerOf(o)] } });
 * expect(mapToRequests(store)(object)).toEqual([{ namespace: 'tools', name: 'a' }]);
 */
export function readonlyStoreOf<T extends KubeObject = KubeObject>(
  objects: Iterable<T>,
  options: { indexes?: Record<string, (object: T) => string[]> } = {},
): ReadonlyStore<T> {
  const store = new Store<T>();
  for (const [name, indexFn] of Object.entries(options.indexes ?? {}))
    store.addIndex(name, indexFn);
  for (const object of objects) store.apply(object);
  return store.reader();
}

/**
 * The installed `@kubernetes/client-node`'s version and the SHA-256 of its `dist/config.js`, as
 * this package resolves it: what a test compares with `CHECKED_CLIENT_NODE`, the release the slim
 * `importKubeConfig` was checked against.
 */
export function installedClientNode(): { version: string; configSha256: string } {
  const require = createRequire(import.meta.url);
  const index = require.resolve('@kubernetes/client-node');
  const config = readFileSync(new URL('./config.js', pathToFileURL(index)));
  const { version } = require(new URL('../package.json', pathToFileURL(index)).pathname) as {
    version: string;
  };
  return { version, configSha256: createHash('sha256').update(config).digest('hex') };
}
