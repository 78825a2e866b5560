/**
 * The SDK client transport of one backend: `StreamableHTTPClientTransport` or
 * `SSEClientTransport`, sending the backend's headers, over an HTTP connection pool of its own
 * that trusts exactly the backend's CA bundle when it has one.
 *
 * TLS is per backend, never process-wide: an undici `Agent` with `connect: { ca }` is handed to
 * the SDK through its `fetch` option. Node's CA list is replaced, not extended, by `ca`, so the
 * backend is trusted only if its chain ends at that bundle. (`NODE_TLS_REJECT_UNAUTHORIZED` or a
 * global dispatcher would change every connection of the process.) The fetch is undici's own:
 * Node's built-in fetch rejects an `Agent` from another undici major version.
 */
import { readFile } from 'node:fs/promises';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch as undiciFetch } from 'undici';
import type { ConnectionSettings } from './backend-settings.js';

/** A transport for the SDK `Client`, and what to do when the client is done with it. */
export interface BackendTransport {
  readonly transport: Transport;
  /**
   * Ends the session on the backend (Streamable HTTP's `DELETE`), bounded by a second. Call
   * before the client closes; a backend that is gone just does not answer.
   */
  endSession?(): Promise<void>;
  /** Destroys the pool's sockets. Call after the client closed. */
  release(): Promise<void>;
}

/** How long a backend gets to acknowledge the end of a session before the client closes anyway. */
const END_SESSION_TIMEOUT_MS = 1000;

/** Opens the transport a backend's settings ask for (the client starts it on `connect`). */
export type OpenTransport = (settings: ConnectionSettings) => Promise<BackendTransport>;

/** The real thing: an HTTP transport per backend. */
export const openHttpTransport: OpenTransport = async (settings) => {
  const ca = await readCaBundle(settings);
  const agent = new Agent(ca === undefined ? {} : { connect: { ca } });
  const fetchThroughAgent: FetchLike = (url, init) =>
    // undici's fetch takes the same RequestInit as Node's global one, plus its `dispatcher`.
    undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>;
  const requestInit: RequestInit = { headers: { ...settings.headers } };
  const url = new URL(settings.url);
  const release = (): Promise<void> => agent.destroy();
  if (settings.transport === 'sse') {
    // Closing the client closes the event stream: that ends an SSE session.
    return {
      transport: new SSEClientTransport(url, { requestInit, fetch: fetchThroughAgent }),
      release,
    };
  }
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit,
    fetch: fetchThroughAgent,
  });
  const endSession = async (): Promise<void> => {
    if (transport.sessionId === undefined) return;
    const timeout = AbortSignal.timeout(END_SESSION_TIMEOUT_MS);
    await Promise.race([
      transport.terminateSession().catch(() => {}),
      new Promise((resolve) => timeout.addEventListener('abort', resolve, { once: true })),
    ]);
  };
  return { transport, endSession, release };
};

/** The PEM text to trust, for an https URL with a CA bundle; undefined otherwise. */
async function readCaBundle(settings: ConnectionSettings): Promise<string | undefined> {
  const { ca } = settings;
  if (ca === undefined || !settings.url.startsWith('https:')) return undefined;
  if ('pem' in ca) return ca.pem;
  try {
    return await readFile(ca.path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(
      `cannot read the CA bundle ${ca.path}: ${typeof code === 'string' ? code : 'unreadable'}`,
    );
  }
}
