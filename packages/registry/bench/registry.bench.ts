/**
 * Registry benchmark: get, upsert and list on 10,000 backends, each beside a naive
 * copy-per-call registry (the upstream approach: every read returns fresh copies, every write
 * moves the version) measured in the same run. Prints ops/s and the ratio.
 *
 * Goal (issue 2): repeated list() between changes at least 100x the naive one.
 */
import { type Backend, createDynamicRegistry } from '../src/index.js';

const SIZE = 10_000;
const MIN_TIME_MS = 400;

/** The upstream approach: a map of copies, a fresh copy for every read, version on every call. */
class NaiveRegistry {
  readonly #backends = new Map<string, Backend>();
  version = 0;
  get(id: string): Backend | undefined {
    const found = this.#backends.get(id);
    return found === undefined ? undefined : { ...found };
  }
  list(): Backend[] {
    return Array.from(this.#backends.values(), (b) => ({ ...b }));
  }
  upsert(backend: Backend): void {
    this.#backends.set(backend.id, { ...backend });
    this.version++;
  }
}

function makeBackend(i: number, generation = 0): Backend {
  return {
    id: `backend-${i.toString().padStart(5, '0')}`,
    name: `backend-${i}`,
    baseUrl: `http://backend-${i}.tools.svc.cluster.local:8080/mcp`,
    transportType: 'streamable-http',
    healthStatus: generation % 2 === 0 ? 'healthy' : 'degraded',
    authConfig: { type: 'unauthenticated' },
    metadata: {
      tool_type: 'mcp',
      workload_type: 'mcp_server',
      workload_status: 'Ready',
      namespace: 'tools',
      generation: String(generation),
    },
  };
}

/** Runs `op` in batches until MIN_TIME_MS passed; returns operations per second. */
function measure(op: (i: number) => void): number {
  for (let i = 0; i < 1000; i++) op(i); // warm-up
  let count = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < MIN_TIME_MS) {
    for (let j = 0; j < 100; j++) op(count++);
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (count / elapsedMs) * 1000;
}

const ours = createDynamicRegistry();
const naive = new NaiveRegistry();
for (let i = 0; i < SIZE; i++) {
  ours.upsert(makeBackend(i));
  naive.upsert(makeBackend(i));
}
const ids = Array.from({ length: SIZE }, (_, i) => makeBackend(i).id);
let sink = 0;

const rows: { operation: string; ours: number; naive: number }[] = [];
rows.push({
  operation: 'get(id)',
  ours: measure((i) => {
    sink += ours.get(ids[i % SIZE] as string)?.name.length ?? 0;
  }),
  naive: measure((i) => {
    sink += naive.get(ids[i % SIZE] as string)?.name.length ?? 0;
  }),
});
rows.push({
  operation: 'upsert (changed content)',
  ours: measure((i) => {
    ours.upsert(makeBackend(i % SIZE, i + 1));
  }),
  naive: measure((i) => {
    naive.upsert(makeBackend(i % SIZE, i + 1));
  }),
});
// Reconcile replays: the same content again (ours compares and keeps the version; naive bumps it).
const replays = Array.from({ length: SIZE }, (_, i) => makeBackend(i, 0));
for (const b of replays) {
  ours.upsert(b);
  naive.upsert(b);
}
rows.push({
  operation: 'upsert (same content)',
  ours: measure((i) => {
    ours.upsert(replays[i % SIZE] as Backend);
  }),
  naive: measure((i) => {
    naive.upsert(replays[i % SIZE] as Backend);
  }),
});
rows.push({
  operation: 'list() between changes',
  ours: measure(() => {
    sink += ours.list().length;
  }),
  naive: measure(() => {
    sink += naive.list().length;
  }),
});
rows.push({
  operation: 'list() after every change',
  ours: measure((i) => {
    ours.upsert(makeBackend(i % SIZE, i + 7));
    sink += ours.list().length;
  }),
  naive: measure((i) => {
    naive.upsert(makeBackend(i % SIZE, i + 7));
    sink += naive.list().length;
  }),
});

const format = (n: number) => Math.round(n).toLocaleString('en-US').padStart(14);
console.log(
  `\n@vmcp/registry on ${SIZE.toLocaleString('en-US')} backends (Node ${process.versions.node})`,
);
console.log(
  `${'operation'.padEnd(28)}${'ours ops/s'.padStart(14)}${'naive ops/s'.padStart(14)}   ratio`,
);
for (const row of rows) {
  console.log(
    `${row.operation.padEnd(28)}${format(row.ours)}${format(row.naive)}   ${(row.ours / row.naive).toFixed(1)}x`,
  );
}
const listRow = rows.find((row) => row.operation === 'list() between changes');
const ratio = (listRow?.ours ?? 0) / (listRow?.naive ?? 1);
console.log(
  `\ngoal: repeated list() between changes >= 100x naive: ${ratio.toFixed(0)}x ${ratio >= 100 ? 'MET' : 'NOT MET'}`,
);
if (sink < 0) console.log(sink);
