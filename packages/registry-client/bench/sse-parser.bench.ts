/**
 * The SSE parser on a large one-line event (issue 23): a 5 MB `data:` line (VMCP_BENCH_SSE_MB)
 * fed in 16 KB chunks, as a snapshot of a large registry arrives from a socket. "Before" is the
 * previous parser's way of holding a line, kept here only for comparison: every chunk appended
 * to one buffer that was then searched for a line end from its start, so each chunk re-read (and
 * flattened) everything before it: quadratic in the size of the line. "After" is `SseParser`:
 * each chunk is searched once and the pieces of a line are joined once, at its end.
 */
import { SseParser } from '../src/sse.js';

const MB = Number(process.env.VMCP_BENCH_SSE_MB ?? 5);
const CHUNK = 16 * 1024;
const ROUNDS = Number(process.env.VMCP_BENCH_ROUNDS ?? 3);

/** The previous parser's buffering: append, then search from the start for every chunk. */
class RescanningLines {
  #buffer = '';
  constructor(readonly onLine: (line: string) => void) {}
  push(text: string): void {
    const buffer = this.#buffer === '' ? text : this.#buffer + text;
    let start = 0;
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
      this.onLine(buffer.slice(start, end));
      start = end + 1;
    }
    this.#buffer = start === 0 ? buffer : buffer.slice(start);
  }
}

const payload = JSON.stringify({
  version: 1,
  backends: Array.from({ length: Math.ceil((MB * 2 ** 20) / 100) }, (_, i) => ({
    id: `backend-${i}`,
    baseUrl: `http://backend-${i}.tools.svc:8080/mcp`,
    metadata: { namespace: 'tools', team: 'platform' },
  })),
}).slice(0, MB * 2 ** 20);
if (payload.length !== MB * 2 ** 20) throw new Error('the payload is not the size asked for');
const text = `event: snapshot\nid: 1\ndata: ${payload}\n\n`;
const chunks: string[] = [];
for (let at = 0; at < text.length; at += CHUNK) chunks.push(text.slice(at, at + CHUNK));

function time(run: () => number): { ms: number; size: number } {
  const started = performance.now();
  const size = run();
  return { ms: performance.now() - started, size };
}

const before = (): number => {
  let size = 0;
  const lines = new RescanningLines((line) => {
    size += line.length;
  });
  for (const chunk of chunks) lines.push(chunk);
  return size;
};
const after = (): number => {
  let size = 0;
  const parser = new SseParser((event) => {
    size += event.data.length;
  });
  for (const chunk of chunks) parser.push(chunk);
  return size;
};

const rows: Record<string, string>[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const old = time(before);
  const now = time(after);
  if (now.size !== payload.length) throw new Error(`parsed ${now.size} bytes of ${payload.length}`);
  rows.push({
    round: String(round + 1),
    'before (rescan per chunk)': `${old.ms.toFixed(1)} ms`,
    'after (SseParser)': `${now.ms.toFixed(1)} ms`,
    speed: `${(old.ms / now.ms).toFixed(0)}x`,
  });
}
console.log(
  `\nSSE parser: one ${MB} MB data line in ${chunks.length} chunks of 16 KB, ${ROUNDS} rounds`,
);
console.table(rows);
