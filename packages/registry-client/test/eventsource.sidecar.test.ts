/**
 * The sidecar's `/v1/events` read by a WHATWG EventSource that is not ours (the `eventsource`
 * package), as a client in another language would: it keeps the server honest.
 */
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from './support/proxy.js';
import { SidecarCluster, type SidecarProcess, TOKEN } from './support/sidecar.js';

let cluster: SidecarCluster;
let sidecar: SidecarProcess;
beforeAll(async () => {
  cluster = await SidecarCluster.start();
  sidecar = await cluster.startSidecar();
  await cluster.put('es-a');
  await cluster.sidecarHolds(sidecar);
});
afterAll(async () => {
  await cluster?.close();
});

interface Seen {
  type: string;
  lastEventId: string;
  data: { version: number; [key: string]: unknown };
}

/** Collects every event of the three types, and lets a test wait for one. */
function open(url: string) {
  const source = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${TOKEN}` } }),
  });
  const seen: Seen[] = [];
  const waiters = new Set<() => void>();
  for (const type of ['heartbeat', 'snapshot', 'change']) {
    source.addEventListener(type, (event) => {
      seen.push({ type, lastEventId: event.lastEventId, data: JSON.parse(event.data) });
      for (const wake of waiters) wake();
    });
  }
  const next = async (match: (event: Seen) => boolean, from = 0): Promise<Seen> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = seen.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`not seen; got ${seen.map((e) => e.type)}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
        setTimeout(wake, 200);
      });
    }
  };
  return { source, seen, next };
}

describe('a WHATWG EventSource against /v1/events', () => {
  it('gets a heartbeat, the snapshot with its version as the event id, then each change', async () => {
    const es = open(`${sidecar.url}/v1/events`);
    try {
      const snapshot = await es.next((e) => e.type === 'snapshot');
      const { version } = await sidecar.list();
      expect(snapshot.data.version).toBe(version);
      expect(snapshot.lastEventId).toBe(String(version));
      // The first event is a heartbeat, without an id of its own.
      expect(es.seen[0]).toMatchObject({ type: 'heartbeat', lastEventId: '' });
      expect(es.seen[0]?.data).toMatchObject({ ready: true, intervalMs: 300 });
      await cluster.put('es-b');
      const change = await es.next((e) => e.type === 'change');
      expect(change.lastEventId).toBe(String(version + 1));
      expect(change.data).toMatchObject({ version: version + 1, removed: [] });
      // Heartbeats keep coming, and never move the id.
      const count = es.seen.length;
      const beat = await es.next((e) => e.type === 'heartbeat', count);
      expect(beat.lastEventId).toBe(String(version + 1));
    } finally {
      es.source.close();
    }
  });

  it('reconnects by itself with Last-Event-ID and gets the missed change, not a snapshot', async () => {
    await using proxy = await FaultProxy.start(sidecar.url);
    const es = open(`${proxy.url}/v1/events`);
    try {
      await es.next((e) => e.type === 'snapshot');
      const count = es.seen.length;
      proxy.dropAll();
      await cluster.put('es-missed');
      const missed = await es.next((e) => e.type === 'change', count);
      expect((missed.data.upserted as { id: string }[]).map((b) => b.id)).toEqual(['es-missed']);
      expect(es.seen.slice(count).some((e) => e.type === 'snapshot')).toBe(false);
    } finally {
      es.source.close();
    }
  });
});
