import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/**
 * An HTTP server on 127.0.0.1 that answers each request with the next scripted handler (the
 * only way to make stream faults on demand). Requests beyond the script get a silent, open
 * response. Every request URL is recorded.
 */
export class ScriptedServer {
  readonly requests: URL[] = [];
  readonly #script: Handler[] = [];
  readonly #server: Server;
  readonly #open = new Set<ServerResponse>();
  #waiters: { count: number; resolve: () => void }[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<ScriptedServer> {
    const server = createServer();
    const scripted = new ScriptedServer(server);
    server.on('request', (req, res) => scripted.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return scripted;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'default' }],
      currentContext: 'x',
    });
    return kc;
  }

  script(...handlers: Handler[]): this {
    this.#script.push(...handlers);
    return this;
  }

  /** Resolves once `count` requests arrived. */
  requested(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    for (const res of this.#open) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(url);
    this.#open.add(res);
    res.on('close', () => this.#open.delete(res));
    const handler = this.#script.shift();
    if (handler) handler(req, res, url);
    else res.writeHead(200, { 'content-type': 'application/json' });
    this.#waiters = this.#waiters.filter((w) => {
      if (this.requests.length >= w.count) w.resolve();
      return this.requests.length < w.count;
    });
  }
}

const object = (name: string, resourceVersion: string, uid = `uid-${name}`) => ({
  apiVersion: 'test.example/v1',
  kind: 'Thing',
  metadata: { name, namespace: 'default', resourceVersion, uid },
});

export const thing = object;

/** A list answer. */
export function list(
  items: ReturnType<typeof object>[],
  resourceVersion: string,
  continueToken?: string,
): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        items,
        metadata: { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) },
      }),
    );
  };
}

/**
 * A watch answer that writes the given chunks, then closes (or stays open). With `gapMs`, each
 * chunk is written that long after the previous one, so that each arrives on its own.
 */
export function stream(
  chunks: (string | Buffer)[],
  options: { keepOpen?: boolean; gapMs?: number } = {},
): Handler {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    for (const chunk of chunks) {
      res.write(chunk);
      if (options.gapMs) await new Promise((resolve) => setTimeout(resolve, options.gapMs));
    }
    if (!options.keepOpen) res.end();
  };
}

export const line = (type: string, value: unknown) =>
  `${JSON.stringify({ type, object: value })}\n`;

/** An error answer with a Status body (and `details.retryAfterSeconds` when given). */
export function status(
  code: number,
  reason: string,
  headers: Record<string, string> = {},
  retryAfterSeconds?: number,
): Handler {
  return (_req, res) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        code,
        reason,
        message: reason,
        ...(retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds } }),
      }),
    );
  };
}
