/**
 * A small MCP server made with the SDK (`McpServer`), on loopback, over Streamable HTTP (`/mcp`)
 * or SSE (`/sse`), optionally over TLS and optionally refusing requests without an expected
 * header value. The gateway's backends in the demo (`serve-demo-backends`) and in the tests.
 */

import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/** A tool of an example server: it takes one string, `text`, and answers one text. */
export interface ExampleTool {
  readonly name: string;
  readonly description: string;
  run(text: string): string;
}

/** Options of {@link startExampleServer}. */
export interface ExampleServerOptions {
  /** The server's name, in its answers. */
  readonly name: string;
  readonly transport: 'streamable-http' | 'sse';
  /** Default 0: any free port. Give the old port to bring a stopped server back. */
  readonly port?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Refuse (401) every request whose header `name` is not `value()` now. */
  readonly requireHeader?: { readonly name: string; readonly value: () => string };
  /** Default: `echo` (answers `<name>: <text>`) and `whoami` (answers the name). */
  readonly tools?: readonly ExampleTool[];
}

/** A running example server. */
export interface ExampleServer extends AsyncDisposable {
  /** The MCP endpoint: `…/mcp` (Streamable HTTP) or `…/sse` (SSE). */
  readonly url: string;
  readonly port: number;
  /** Values of the required header seen on requests, in order (for tests of rotation). */
  readonly headerValues: readonly string[];
  /** Clients' sessions open now. */
  readonly sessionCount: number;
  /** Adds a tool to every session and to later ones: clients get `tools/list_changed`. */
  addTool(tool: ExampleTool): void;
  /** Stops listening and drops every connection and session. */
  close(): Promise<void>;
}

/** The tools of an example server named `name` when none are given. */
export function defaultTools(name: string): ExampleTool[] {
  return [
    { name: 'echo', description: `Echoes text, from ${name}`, run: (text) => `${name}: ${text}` },
    { name: 'whoami', description: 'Says which server answers', run: () => name },
  ];
}

/** Starts an example server; resolves once it listens. */
export async function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  const tools = [...(options.tools ?? defaultTools(options.name))];
  const sessions: Sessions = new Map();
  const headerValues: string[] = [];
  const newMcpServer = (): McpServer => {
    const mcp = new McpServer({ name: options.name, version: '1.0.0' });
    for (const tool of tools) register(mcp, tool);
    return mcp;
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (!hasRequiredHeader(req, options, headerValues)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const serve = options.transport === 'sse' ? serveSse : serveStreamableHttp;
    serve(req, res, sessions, newMcpServer).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const base = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    await Promise.all([...sessions.values()].map(({ mcp }) => mcp.close().catch(() => {})));
    sessions.clear();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return {
    url: `${base}${options.transport === 'sse' ? '/sse' : '/mcp'}`,
    port,
    headerValues,
    get sessionCount() {
      return sessions.size;
    },
    addTool(tool) {
      tools.push(tool);
      for (const { mcp } of sessions.values()) register(mcp, tool); // each sends list_changed
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function register(mcp: McpServer, tool: ExampleTool): void {
  mcp.registerTool(
    tool.name,
    { description: tool.description, inputSchema: { text: z.string().optional() } },
    async ({ text }) => ({ content: [{ type: 'text', text: tool.run(text ?? '') }] }),
  );
}

function hasRequiredHeader(
  req: IncomingMessage,
  options: ExampleServerOptions,
  seen: string[],
): boolean {
  const required = options.requireHeader;
  if (required === undefined) return true;
  const value = req.headers[required.name.toLowerCase()];
  if (typeof value === 'string') seen.push(value);
  return value === required.value();
}

/** A client's session: its McpServer, and how its transport takes a request. */
interface Session {
  readonly mcp: McpServer;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}
type Sessions = Map<string, Session>;

/** Streamable HTTP at `/mcp`: a session (an McpServer and its transport) per `initialize`. */
async function serveStreamableHttp(
  req: IncomingMessage,
  res: ServerResponse,
  sessions: Sessions,
  newMcpServer: () => McpServer,
): Promise<void> {
  if (!req.url?.startsWith('/mcp')) return void res.writeHead(404).end();
  const id = req.headers['mcp-session-id'];
  if (id !== undefined) {
    const session = typeof id === 'string' ? sessions.get(id) : undefined;
    return session === undefined ? void res.writeHead(404).end() : session.handle(req, res);
  }
  const mcp = newMcpServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (sessionId) => {
      sessions.set(sessionId, { mcp, handle: (q, r) => transport.handleRequest(q, r) });
    },
  });
  transport.onclose = () => {
    if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
  };
  await mcp.connect(transport);
  await transport.handleRequest(req, res);
}

/** The SSE transport: `GET /sse` opens a session's stream, `POST /messages?sessionId=` feeds it. */
async function serveSse(
  req: IncomingMessage,
  res: ServerResponse,
  sessions: Sessions,
  newMcpServer: () => McpServer,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/sse') {
    const mcp = newMcpServer();
    const transport = new SSEServerTransport('/messages', res);
    sessions.set(transport.sessionId, { mcp, handle: (q, r) => transport.handlePostMessage(q, r) });
    transport.onclose = () => sessions.delete(transport.sessionId);
    await mcp.connect(transport);
    return;
  }
  const session = sessions.get(url.searchParams.get('sessionId') ?? '');
  if (req.method !== 'POST' || url.pathname !== '/messages' || session === undefined) {
    return void res.writeHead(404).end();
  }
  await session.handle(req, res);
}
