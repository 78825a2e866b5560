/**
 * The gateway's MCP endpoint: Streamable HTTP sessions, each an SDK `Server` that answers
 * `tools/list` from the catalog and routes `tools/call` to the backend that owns the name. When
 * the catalog's tools change, every live session whose list is stale gets
 * `notifications/tools/list_changed` (upstream sent it only after #6196: sessions kept stale
 * catalogs before).
 *
 * The low-level `Server` is used rather than `McpServer` because the tools are not ours: their
 * JSON Schemas come from the backends and are passed through as they are.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { buildCatalog, type Catalog, type Route, sameTools } from './catalog.js';
import type { Logger } from './log.js';

/** What the endpoint needs from the gateway. */
export interface RoutingServerOptions {
  /** The current catalog (memoized by the caller). */
  readonly catalog: () => Promise<Catalog>;
  /** Calls a routed tool on its backend. Errors must already be free of secrets. */
  readonly callTool: (
    route: Route,
    args: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ) => Promise<CallToolResult>;
  readonly logger: Logger;
  /** Sessions held at once; an `initialize` beyond it gets 503. Default 1000. */
  readonly maxSessions?: number;
}

interface Session {
  readonly server: Server;
  readonly transport: StreamableHTTPServerTransport;
  /** The catalog last answered to this session's `tools/list`, until it was told it is stale. */
  listed: Catalog | undefined;
}

/** The `/mcp` endpoint and its sessions. */
export class RoutingServer {
  readonly #sessions = new Map<string, Session>();
  /** The catalog sessions were last told about (an empty one at start). */
  #announced: Catalog = buildCatalog([], undefined);
  #checking = false;
  #checkAgain = false;

  constructor(private readonly options: RoutingServerOptions) {}

  /** Live sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Handles one HTTP request to the endpoint (POST, GET or DELETE, as the transport defines). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers['mcp-session-id'];
    if (header !== undefined) {
      const session = typeof header === 'string' ? this.#sessions.get(header) : undefined;
      if (session === undefined) return sendError(res, 404, 'Session not found: initialize again');
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return sendError(res, 400, 'No session: send initialize first');
    if (this.#sessions.size >= (this.options.maxSessions ?? 1000)) {
      return sendError(res, 503, 'Too many sessions');
    }
    const session = this.#openSession();
    await session.transport.handleRequest(req, res);
    // Anything but an initialize request was answered with an error and opened no session.
    if (session.transport.sessionId === undefined) await session.server.close();
  }

  /**
   * Compares the catalog with what sessions were told, and notifies the stale ones. Call it on
   * every change of the supervisor; calls while one runs are folded into one more run.
   */
  async catalogMayHaveChanged(): Promise<void> {
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#checkAgain = false;
        this.#notifyStaleSessions(await this.options.catalog());
      } while (this.#checkAgain);
    } catch (error) {
      this.options.logger.error({ error: String(error) }, 'cannot build the catalog');
    } finally {
      this.#checking = false;
    }
  }

  /** Closes every session. */
  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((session) => session.server.close().catch(() => {})));
  }

  #notifyStaleSessions(current: Catalog): void {
    const changed = !sameTools(this.#announced, current);
    this.#announced = current;
    let notified = 0;
    for (const session of this.#sessions.values()) {
      const stale = session.listed === undefined ? changed : !sameTools(session.listed, current);
      if (!stale) continue;
      session.listed = undefined;
      notified++;
      session.server.sendToolListChanged().catch(() => {
        // The session's stream is gone; its client learns of the change when it lists again.
      });
    }
    if (changed) {
      this.options.logger.info(
        { tools: current.tools.length, registryVersion: current.registryVersion, notified },
        'catalog changed',
      );
    }
  }

  #openSession(): Session {
    const server = new Server(
      { name: 'vmcp-gateway', version: '0.0.0' },
      { capabilities: { tools: { listChanged: true } } },
    );
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.#sessions.set(id, session);
      },
    });
    const session: Session = { server, transport, listed: undefined };
    server.onclose = () => {
      if (transport.sessionId !== undefined) this.#sessions.delete(transport.sessionId);
    };
    this.#registerHandlers(session);
    // connect() only wires the transport; it does no I/O.
    void server.connect(transport);
    return session;
  }

  #registerHandlers(session: Session): void {
    session.server.setRequestHandler(ListToolsRequestSchema, async () => {
      const catalog = await this.options.catalog();
      session.listed = catalog;
      return { tools: [...catalog.tools] };
    });
    session.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const { name, arguments: args } = request.params;
      const route = (await this.options.catalog()).route(name);
      if (route === undefined) {
        throw new McpError(
          ErrorCode.InvalidParams,
          `Unknown tool: ${JSON.stringify(name.slice(0, 200))}`,
        );
      }
      return this.options.callTool(route, args, extra.signal);
    });
  }
}

/** A JSON-RPC error body with an HTTP status, as the transport answers its own errors. */
function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}
