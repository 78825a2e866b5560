import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a sidecar that can do to event streams what the network and proxies
 * do: cut a connection in the middle of an event, or buffer a stream (hold its body) as a proxy
 * with response buffering does. Everything else passes through untouched.
 */
export class FaultProxy implements AsyncDisposable {
  /** Hold the bodies of event streams opened from now on (headers pass). */
  bufferStreams = false;
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
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('GET /v1/events')) {
        stream = 'headers';
        buffering = this.bufferStreams;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (chunk.includes('content-encoding: gzip')) this.gzippedAnswers++;
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
