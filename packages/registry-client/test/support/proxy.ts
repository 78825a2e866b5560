import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the proxy saw of one event stream request. */
export interface StreamSeen {
  /** Its `Last-Event-ID` header, if it sent one. */
  readonly lastEventId: string | undefined;
  /** Whether the sidecar's answer carried a `snapshot` event (the whole list). */
  snapshot: boolean;
}

/**
 * A TCP proxy in front of a sidecar that can do to event streams what the network and proxies
 * do: cut a connection in the middle of an event, buffer a stream (hold its body) as a proxy
 * with response buffering does, or refuse streams with a status of its own. Everything else
 * passes through untouched.
 */
export class FaultProxy implements AsyncDisposable {
  /** Hold the bodies of event streams opened from now on (headers pass). */
  bufferStreams = false;
  /** Answer event stream requests from now on with this status (a proxy that does not route them). */
  refuseStreams: number | undefined;
  /** End every event stream right after its first heartbeat (a proxy that cuts streams). */
  endStreamsAfterHeartbeat = false;
  /** Every event stream request, in order. */
  readonly streams: StreamSeen[] = [];
  /** Answers that went through gzip-compressed. */
  gzippedAnswers = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cutArmed: (() => void) | undefined;
  #targetPort: number;

  private constructor(server: Server, targetPort: number) {
    this.#server = server;
    this.#targetPort = targetPort;
  }

  static async start(target: string): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, Number(new URL(target).port));
    server.on('connection', (client) => proxy.#accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const address = this.#server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  /** Points new connections at another sidecar (a restarted one on a new port). */
  retarget(target: string): void {
    this.#targetPort = Number(new URL(target).port);
  }

  /**
   * Resolves once the next `change` event on an event stream was cut: its first half forwarded,
   * then both sides of the connection destroyed.
   */
  cutMidEvent(): Promise<void> {
    return new Promise((resolve) => {
      this.#cutArmed = resolve;
    });
  }

  /** Destroys every open connection. */
  dropAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #accept(client: Socket): void {
    const upstream = connect(this.#targetPort, '127.0.0.1');
    this.#sockets.add(client).add(upstream);
    let stream: 'no' | 'headers' | 'body' = 'no';
    let buffering = false;
    const held: Buffer[] = [];
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    let seen: StreamSeen | undefined;
    let tail: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('GET /v1/events')) {
        if (this.refuseStreams !== undefined) {
          client.end(
            `HTTP/1.1 ${this.refuseStreams} Refused\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
          );
          upstream.destroy();
          return;
        }
        stream = 'headers';
        buffering = this.bufferStreams;
        seen = {
          lastEventId: /^last-event-id: *(\S*)\r$/im.exec(chunk.toString('latin1'))?.[1],
          snapshot: false,
        };
        this.streams.push(seen);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (chunk.includes('content-encoding: gzip')) this.gzippedAnswers++;
      if (seen !== undefined && !seen.snapshot) {
        // With the end of the chunk before: the name may be split between two.
        seen.snapshot = Buffer.concat([tail, chunk]).includes('event: snapshot');
        tail = chunk.subarray(-16);
      }
      let data = chunk;
      if (stream === 'headers') {
        const end = data.indexOf('\r\n\r\n');
        if (end === -1) {
          client.write(data);
          return;
        }
        client.write(data.subarray(0, end + 4));
        data = data.subarray(end + 4);
        stream = 'body';
      }
      if (stream === 'body' && buffering) {
        held.push(data);
        return;
      }
      const beat = stream === 'body' && this.endStreamsAfterHeartbeat ? heartbeatEnd(data) : -1;
      if (beat !== -1) {
        client.write(data.subarray(0, beat), end);
        return;
      }
      const cut = this.#cutArmed;
      const at = stream === 'body' && cut ? data.indexOf('event: change') : -1;
      if (cut && at !== -1) {
        this.#cutArmed = undefined;
        client.write(data.subarray(0, at + 40), () => {
          end();
          cut();
        });
        return;
      }
      client.write(data);
    });
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }
}

/** Where the first heartbeat event of `data` ends (after its blank line), or -1. */
function heartbeatEnd(data: Buffer): number {
  const at = data.indexOf('event: heartbeat');
  const blank = at === -1 ? -1 : data.indexOf('\n\n', at);
  return blank === -1 ? -1 : blank + 2;
}
