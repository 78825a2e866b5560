import { gzipSync } from 'node:zlib';
import {
  type Backend,
  type RegistryChange,
  type RegistrySnapshot,
  redactBackend,
} from '@vmcp/registry';
import type { Access } from '../auth.js';
import type { Versioned } from './request.js';

type Views = Partial<Record<Access, Buffer>>;

/** Serialised bodies, per snapshot and view, shared by every client of that version. */
export class BodyCache {
  readonly #lists = new WeakMap<RegistrySnapshot, Views>();
  readonly #items = new WeakMap<RegistrySnapshot, Map<string, Buffer>>();
  readonly #changes = new WeakMap<RegistryChange, Views>();
  readonly #gzipped = new WeakMap<Buffer, Buffer>();
  // Each stored backend is frozen and keeps its identity across versions until it changes, so
  // its JSON is made once per view: a list of 5000 after one change serialises one backend.
  readonly #json = {
    secrets: new WeakMap<Backend, string>(),
    redacted: new WeakMap<Backend, string>(),
  };

  list(snapshot: RegistrySnapshot, access: Access): Versioned {
    const views = getOrCreate(this.#lists, snapshot, (): Views => ({}));
    views[access] ??= Buffer.from(
      `${this.#listJson(snapshot.version, snapshot.backends, access)}\n`,
    );
    const body = views[access];
    // Synchronous like the serialisation above, and about as cheap: a few ms for 5000 backends.
    const gzipped = () => getOrCreate(this.#gzipped, body, () => gzipSync(body));
    return { version: snapshot.version, body, gzipped };
  }

  /** `{"version":N,"backends":[...]}`, byte for byte what JSON.stringify would give. */
  #listJson(version: number, backends: readonly Backend[], access: Access): string {
    return `{"version":${version},"backends":${this.#arrayJson(backends, access)}}`;
  }

  /** A JSON array of backends from their cached serialisations. */
  #arrayJson(backends: readonly Backend[], access: Access): string {
    return `[${backends.map((backend) => this.#backendJson(backend, access)).join(',')}]`;
  }

  #backendJson(backend: Backend, access: Access): string {
    const cache = access === 'secrets' ? this.#json.secrets : this.#json.redacted;
    return getOrCreate(cache, backend, () => JSON.stringify(view([backend], access)[0]));
  }

  one(snapshot: RegistrySnapshot, id: string, access: Access): Buffer | undefined {
    const items = getOrCreate(this.#items, snapshot, () => new Map<string, Buffer>());
    const key = `${access}/${id}`;
    let body = items.get(key);
    if (body === undefined) {
      const backend = snapshot.backends.find((b) => b.id === id);
      if (backend === undefined) return undefined;
      body = Buffer.from(`${this.#backendJson(backend, access)}\n`);
      items.set(key, body);
    }
    return body;
  }

  /**
   * An SSE `change` event, or a `snapshot` for a reset. A changed backend is serialised once per
   * view, for this event and for the lists and items that follow.
   */
  change(change: RegistryChange, access: Access): Buffer {
    const views = getOrCreate(this.#changes, change, (): Views => ({}));
    views[access] ??= change.reset
      ? sseData('snapshot', change.version, this.#listJson(change.version, change.upserted, access))
      : this.#changeEvent(change, access);
    return views[access];
  }

  /** `{"version":N,"upserted":[...],"removed":[...]}`, as JSON.stringify would give it. */
  #changeEvent(change: RegistryChange, access: Access): Buffer {
    const upserted = this.#arrayJson(change.upserted, access);
    const removed = change.removed.length === 0 ? '[]' : JSON.stringify(change.removed);
    return sseData(
      'change',
      change.version,
      `{"version":${change.version},"upserted":${upserted},"removed":${removed}}`,
    );
  }

  snapshotEvent(snapshot: RegistrySnapshot, access: Access): Buffer {
    return sseData(
      'snapshot',
      snapshot.version,
      this.#listJson(snapshot.version, snapshot.backends, access),
    );
  }
}

function getOrCreate<K extends object, V>(
  map: { get(key: K): V | undefined; set(key: K, value: V): unknown },
  key: K,
  make: () => V,
): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function view(backends: readonly Backend[], access: Access): readonly Backend[] {
  return access === 'secrets' ? backends : backends.map(redactBackend);
}

function sseData(event: string, id: number, json: string): Buffer {
  return Buffer.from(`event: ${event}\nid: ${id}\ndata: ${json}\n\n`);
}
