import { connect } from 'node:net';

/** What the server sent back on one raw connection. */
export interface RawAnswer {
  /** The status of every response in what was read, in order. */
  statuses: number[];
  /** The status lines that are not `HTTP/1.1 NNN Reason`: the server must never write one. */
  malformedStatusLines: string[];
  /** True when the server closed the connection; false when the client stopped waiting. */
  closedByServer: boolean;
  bytes: number;
}

/** How long the client waits for more bytes, after some and before any. */
export interface WaitLimits {
  /** After the last byte received: an event stream or a long-poll keeps sending, or nothing. */
  idleMs: number;
  /** Before any byte: a long-poll may answer late. */
  firstByteMs: number;
}

/**
 * Sends `bytes` on a new connection to `port` in the writes `splits` marks (a turn of the event
 * loop between them), half-closes it, and reads until the server closes it or the client stops
 * waiting ({@link WaitLimits}). Never rejects: a reset is an answer like any other.
 */
export function rawExchange(
  port: number,
  bytes: Buffer,
  splits: readonly number[],
  limits: WaitLimits,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer = setTimeout(() => finish(false), limits.firstByteMs);
    const finish = (closedByServer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answerOf(Buffer.concat(chunks), closedByServer));
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), limits.idleMs);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.once('connect', async () => {
      let from = 0;
      for (const at of [...splits, bytes.length]) {
        if (socket.destroyed) return;
        socket.write(bytes.subarray(from, at));
        from = at;
        await new Promise((next) => setImmediate(next));
      }
      if (!socket.destroyed) socket.end();
    });
  });
}

function answerOf(data: Buffer, closedByServer: boolean): RawAnswer {
  const text = data.toString('latin1');
  // Status lines start a response: at the start, or after the end of a previous one. Bodies here
  // are JSON or SSE and never contain "HTTP/".
  const lines = [...text.matchAll(/(?:^|\n)(HTTP\/[^\r\n]*)/g)].map((m) => m[1] as string);
  const statuses: number[] = [];
  const malformedStatusLines: string[] = [];
  for (const line of lines) {
    const status = /^HTTP\/1\.1 (\d{3}) [ -~]+$/.exec(line)?.[1];
    if (status === undefined) malformedStatusLines.push(line.slice(0, 80));
    else statuses.push(Number(status));
  }
  return { statuses, malformedStatusLines, closedByServer, bytes: data.length };
}
