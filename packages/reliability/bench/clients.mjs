// The client side of the load benchmark, in its own process: half long-polls, half event
// streams against one sidecar. Prints "ready" once every client waits, then, when stdin closes,
// one JSON line: per version, the receipt times (ms) of every client.
import http from 'node:http';

const [url, startText, clientsText] = process.argv.slice(2);
const start = Number(startText);
const clients = Number(clientsText);
const arrivals = { longpoll: new Map(), sse: new Map() };
const record = (type, version) => {
  const list = arrivals[type].get(version) ?? [];
  list.push(performance.now());
  arrivals[type].set(version, list);
};
const stop = new AbortController();
let waiting = 0;
const ready = () => {
  waiting++;
  if (waiting === clients) process.stdout.write('ready\n');
};

// A long-poll receives a change when the last byte of its answer has arrived; decoding the
// body is the client's own work (a real client has its own CPU), so it is not done here, where
// 250 clients share one process.
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
const ENCODING = process.env.VMCP_BENCH_ENCODING ?? 'identity';
function getOnce(path) {
  return new Promise((resolve) => {
    const request = http.get(
      `${url}${path}`,
      { agent, signal: stop.signal, headers: { 'accept-encoding': ENCODING } },
      (response) => {
        response.on('data', () => {});
        response.on('end', () => resolve(response));
        response.on('error', () => resolve(undefined));
      },
    );
    request.on('error', () => resolve(undefined));
  });
}

async function longPoll() {
  let version = start;
  let first = true;
  while (!stop.signal.aborted) {
    const pending = getOnce(`/v1/backends?watch=${version}&timeoutSeconds=120`);
    if (first) {
      first = false;
      setTimeout(ready, 500);
    }
    const response = await pending;
    if (response?.statusCode === 200) {
      const next = Number(/\d+/.exec(response.headers.etag ?? '')?.[0]);
      for (let v = version + 1; v <= next; v++) record('longpoll', v);
      version = next;
    }
    // The next long-poll goes out after this turn's other arrivals were recorded: 250 clients
    // share this process, and one client's next request must not delay another's receipt.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function stream() {
  return new Promise((resolve) => {
    const request = http.get(
      `${url}/v1/events`,
      { signal: stop.signal, headers: { 'last-event-id': String(start) } },
      (response) => {
        ready();
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const id = /\nid: (\d+)/.exec(`\n${buffer.slice(0, end)}`)?.[1];
            if (id) record('sse', Number(id));
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
          }
        });
        response.on('close', resolve);
      },
    );
    // Aborted at the end.
    request.on('error', resolve);
  });
}

const all = [];
for (let i = 0; i < clients / 2; i++) all.push(longPoll(), stream());
process.stdin.resume();
process.stdin.on('end', async () => {
  stop.abort();
  await Promise.allSettled(all);
  process.stdout.write(
    `${JSON.stringify({ longpoll: Object.fromEntries(arrivals.longpoll), sse: Object.fromEntries(arrivals.sse) })}\n`,
  );
  process.exit(0);
});
