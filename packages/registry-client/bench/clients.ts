/**
 * The clients of the latency benchmark, in a process of their own (as a consumer would be):
 * `tsx bench/clients.ts MODE URL N CHANGES`. MODE `client`: N registry clients, a change has
 * arrived when a client's change feed yields it; MODE `raw`: N plain SSE readers (node:http,
 * split on blank lines, JSON.parse), a change has arrived when its event is parsed. Prints
 * `ready` once every client holds the snapshot, then one JSON line with the latencies (ms from
 * the change's timestamp, written into the backend by the benchmark) and this process's CPU and
 * RSS.
 */
import { request } from 'node:http';
import { connectRegistry } from '@vmcp/registry-client';

const [mode = 'client', url = '', countText = '1', changesText = '20'] = process.argv.slice(2);
const count = Number(countText);
const changes = Number(changesText);
const now = (): number => performance.timeOrigin + performance.now();
const latencies: number[] = [];
let done!: () => void;
const finished = new Promise<void>((resolve) => {
  done = resolve;
});
const expected = count * changes;
const arrived = (stamp: string | undefined): void => {
  if (stamp === undefined) return;
  latencies.push(now() - Number(stamp));
  if (latencies.length === expected) done();
};

async function clients(): Promise<() => Promise<void>> {
  const all = Array.from({ length: count }, () => connectRegistry({ url }));
  await Promise.all(all.map((client) => client.ready));
  for (const client of all) {
    void (async () => {
      for await (const change of client.changes()) {
        arrived(change.upserted.find((b) => b.id === 'bench')?.metadata.t);
      }
    })();
  }
  return async () => {
    await Promise.all(all.map((client) => client.close()));
  };
}

async function raw(): Promise<() => Promise<void>> {
  const readers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<() => void>((resolve) => {
          const req = request(`${url}/v1/events`, (res) => {
            res.setEncoding('utf8');
            let buffer = '';
            let synced = false;
            res.on('data', (text: string) => {
              buffer += text;
              let end = buffer.indexOf('\n\n');
              while (end !== -1) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                end = buffer.indexOf('\n\n');
                const data = block.split('\n').find((line) => line.startsWith('data: '));
                if (data === undefined) continue;
                const event = JSON.parse(data.slice(6));
                if (block.startsWith('event: snapshot') && !synced) {
                  synced = true;
                  resolve(() => req.destroy());
                } else if (block.startsWith('event: change')) {
                  arrived(event.upserted.find((b: { id: string }) => b.id === 'bench')?.metadata.t);
                }
              }
            });
          });
          req.on('error', () => undefined);
          req.end();
        }),
    ),
  );
  return async () => {
    for (const stop of readers) stop();
  };
}

const stop = mode === 'raw' ? await raw() : await clients();
const cpuBefore = process.cpuUsage();
console.log('ready');
await finished;
const cpu = process.cpuUsage(cpuBefore);
const result = JSON.stringify({
  latencies,
  cpuMsPerChange: (cpu.user + cpu.system) / 1000 / changes,
  rssMb: process.memoryUsage().rss / 2 ** 20,
});
// Written out before process.exit: 500 clients' latencies are ~190 KB, more than a pipe holds.
await new Promise((resolve) => process.stdout.write(`${result}\n`, resolve));
await stop();
process.exit(0);
