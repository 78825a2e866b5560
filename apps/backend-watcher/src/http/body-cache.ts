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

/** The list bodies of one version, by view. */
interface Lists {
  version: number;
  views: Views;
}

/** An SSE event, as the parts written one after the other; big parts are shared buffers. */
export type SseEvent = readonly Buffer[];

const EVENT_END = Buffer.from('\n');

/**
 * Serialised bodies, per snapshot and view, shared by every client of that version: list and
 * item bodies, and the SSE events (a `snapshot` event is the list body between a short head
 * and a line break, so a version's whole content is held once per view however many lists,
 * long-polls, snapshots and resets carry it).
 */
export class BodyCache {
  // Keyed by the snapshot's frozen backends array: a reset change of the feed carries the same
  // array as the snapshot of its version.
  readonly #lists = new WeakMap<readonly Backend[], Lists>();
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
    const body = this.#listBody(snapshot.version, snapshot.backends, access);
    // Synchronous like the serialisation, and about as cheap: a few ms for 5000 backends.
    const gzipped = () => getOrCreate(this.#gzipped, body, () => gzipSync(body));
    return { version: snapshot.version, body, gzipped };
  }

  /** `{"version":N,"backends":[...]}` and a line break, made once per version and view. */
  #listBody(version: number, backends: readonly Backend[], access: Access): Buffer {
    let lists = this.#lists.get(backends);
    if (lists === undefined || lists.version !== version) {
      lists = { version, views: {} };
      this.#lists.set(backends, lists);
    }
    lists.views[access] ??= Buffer.from(`${this.#listJson(version, backends, access)}\n`);
    return lists.views[access];
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
  change(change: RegistryChange, access: Access): SseEvent {
    if (change.reset) return this.#snapshotEvent(change.version, change.upserted, access);
    const views = getOrCreate(this.#changes, change, (): Views => ({}));
    views[access] ??= this.#changeEvent(change, access);
    return [views[access]];
  }

  /** `{"version":N,"upserted":[...],"removed":[...]}`, as JSON.stringify would give it. */
  #changeEvent(change: RegistryChange, access: Access): Buffer {
    const upserted = this.#arrayJson(change.upserted, access);
    const removed = change.removed.length === 0 ? '[]' : JSON.stringify(change.removed);
    return Buffer.from(
      `${sseHead('change', change.version)}{"version":${change.version},"upserted":${upserted},"removed":${removed}}\n\n`,
    );
  }

  /** The SSE `snapshot` event of a version: its list body, shared. */
  snapshotEvent(snapshot: RegistrySnapshot, access: Access): SseEvent {
    return this.#snapshotEvent(snapshot.version, snapshot.backends, access);
  }

  #snapshotEvent(version: number, backends: readonly Backend[], access: Access): SseEvent {
    const body = this.#listBody(version, backends, access);
    return [Buffer.from(sseHead('snapshot', version)), body, EVENT_END];
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

/** The lines of an SSE event before its data: the data follows on the `data:` line. */
function sseHead(event: string, id: number): string {
  return `event: ${event}\nid: ${id}\ndata: `;
}
