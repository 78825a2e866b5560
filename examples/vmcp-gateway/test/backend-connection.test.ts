import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { eventually } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';
import { BackendConnection, BackendUnavailableError } from '../src/backend-connection.js';
import type { ConnectionSettings, SettingsResult } from '../src/backend-settings.js';
import { DEFAULT_RETRY_POLICY } from '../src/backoff.js';
import { silentLogger } from '../src/log.js';
import type { BackendTransport } from '../src/transport.js';

const SETTINGS: ConnectionSettings = {
  url: 'http://alpha.test/mcp',
  transport: 'streamable-http',
  headers: {},
  ca: undefined,
  secrets: ['top-secret-value'],
};

/** An in-memory MCP backend; each `open()` is one connection to a fresh session of it. */
class FakeBackend {
  readonly servers: McpServer[] = [];
  /** How the next opens go: `refuse` throws, `silent` never answers pings. */
  mode: 'serve' | 'refuse' | 'silent' = 'serve';
  opened = 0;
  closedSessions = 0;
  readonly tools = ['echo'];

  open = async (): Promise<BackendTransport> => {
    this.opened++;
    if (this.mode === 'refuse') {
      throw new TypeError('fetch failed', {
        cause: new Error('connect ECONNREFUSED top-secret-value'),
      });
    }
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = new McpServer({ name: 'alpha', version: '1' });
    for (const name of this.tools)
      server.registerTool(name, { description: name }, async () => ({ content: [] }));
    server.server.onclose = () => this.closedSessions++;
    this.servers.push(server);
    await server.connect(this.silencing(serverSide));
    return { transport: clientSide, release: async () => {} };
  };

  /** Drops pings on the server side once the backend is `silent`. */
  private silencing(transport: InMemoryTransport): InMemoryTransport {
    const original = transport.start.bind(transport);
    transport.start = async () => {
      await original();
      const handler = transport.onmessage;
      transport.onmessage = (message: JSONRPCMessage, extra) => {
        if (this.mode === 'silent' && 'method' in message && message.method === 'ping') return;
        handler?.(message, extra);
      };
    };
    return transport;
  }
}

function connect(
  backend: FakeBackend,
  clock: FakeClock,
  settings: SettingsResult = { ok: true, settings: SETTINGS },
) {
  let changes = 0;
  const connection = new BackendConnection('alpha', settings, {
    openTransport: backend.open,
    clock,
    random: () => 0.5, // no jitter: delays are 500, 1000, 2000 ms
    retry: DEFAULT_RETRY_POLICY,
    healthCheckIntervalMs: 10_000,
    requestTimeoutMs: 300,
    logger: silentLogger,
    onChange: () => changes++,
  });
  connection.start();
  return { connection, changes: () => changes };
}

/** A connection to a backend that refuses it, once its first attempt failed. */
async function refusedConnection(): Promise<BackendConnection> {
  const backend = new FakeBackend();
  backend.mode = 'refuse';
  const { connection } = connect(backend, new FakeClock());
  await eventually(() => connection.state.phase === 'failed');
  return connection;
}

describe('BackendConnection', () => {
  it('connects and lists the backend tools', async () => {
    const clock = new FakeClock();
    const { connection } = connect(new FakeBackend(), clock);
    await eventually(() => connection.state.phase === 'connected');
    expect(connection.state).toMatchObject({ phase: 'connected', tools: [{ name: 'echo' }] });
    expect(clock.timersDueIn()).toEqual([10_000]); // the next health check
    await connection.close();
  });

  it('retries a refusing backend with exponential backoff on the injected clock', async () => {
    const clock = new FakeClock();
    const backend = new FakeBackend();
    backend.mode = 'refuse';
    const { connection } = connect(backend, clock);
    for (const [failures, delay] of [
      [1, 500],
      [2, 1000],
      [3, 2000],
    ] as const) {
      await eventually(() => connection.state.phase === 'failed' && backend.opened === failures);
      expect(connection.state).toMatchObject({ failures, retryInMs: delay });
      expect(clock.timersDueIn()).toEqual([delay]);
      clock.advance(delay - 1);
      expect(connection.state.phase).toBe('failed'); // not a millisecond early
      if (failures === 3) backend.mode = 'serve'; // the fourth attempt succeeds
      clock.advance(1);
      expect(connection.state.phase).toBe('connecting');
    }
    await eventually(() => connection.state.phase === 'connected');
    await connection.close();
  });

  it('keeps secret values out of the failure reason', async () => {
    const connection = await refusedConnection();
    expect(connection.state).toMatchObject({
      reason: 'fetch failed: connect ECONNREFUSED [REDACTED]',
    });
    await connection.close();
  });

  it('takes the new tools when the backend sends tools/list_changed', async () => {
    const backend = new FakeBackend();
    const { connection, changes } = connect(backend, new FakeClock());
    await eventually(() => connection.state.phase === 'connected');
    const before = changes();
    backend.servers[0]?.registerTool('time', { description: 'time' }, async () => ({
      content: [],
    }));
    await eventually(() => {
      const { state } = connection;
      return (
        state.phase === 'connected' && state.tools.map((tool) => tool.name).join() === 'echo,time'
      );
    });
    expect(changes()).toBe(before + 1);
    await connection.close();
  });

  it('fails at once when the connection closes, and reconnects after the backoff', async () => {
    const clock = new FakeClock();
    const backend = new FakeBackend();
    const { connection } = connect(backend, clock);
    await eventually(() => connection.state.phase === 'connected');
    await backend.servers[0]?.close();
    expect(connection.state).toMatchObject({
      phase: 'failed',
      failures: 1,
      reason: 'the connection closed',
    });
    clock.advance(500);
    await eventually(() => connection.state.phase === 'connected');
    expect(backend.opened).toBe(2);
    await connection.close();
  });

  it('fails a backend that stops answering at the next health check', async () => {
    const clock = new FakeClock();
    const backend = new FakeBackend();
    const { connection } = connect(backend, clock);
    await eventually(() => connection.state.phase === 'connected');
    backend.mode = 'silent';
    clock.advance(9_999);
    expect(connection.state.phase).toBe('connected');
    clock.advance(1);
    await eventually(() => connection.state.phase === 'failed');
    expect(connection.state).toMatchObject({
      reason: expect.stringContaining('Request timed out'),
    });
    expect(backend.closedSessions).toBe(1); // the dead client was closed
    await connection.close();
  });

  it('answers a call only while connected', async () => {
    const connection = await refusedConnection();
    await expect(connection.callTool('echo', {}, new AbortController().signal)).rejects.toThrow(
      BackendUnavailableError,
    );
    await connection.close();
  });

  it('closes the client of an attempt that finishes after close', async () => {
    const clock = new FakeClock();
    const backend = new FakeBackend();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const open = backend.open;
    backend.open = async () => {
      await gate;
      return open();
    };
    const { connection } = connect(backend, clock);
    await connection.close();
    release();
    await eventually(() => backend.closedSessions === 1);
    expect(connection.state.phase).toBe('closed');
    expect(clock.pendingTimers).toBe(0);
  });

  it('never opens a transport for an excluded backend', async () => {
    const backend = new FakeBackend();
    const { connection } = connect(backend, new FakeClock(), {
      ok: false,
      reason: 'token_exchange',
    });
    expect(connection.state).toEqual({ phase: 'excluded', reason: 'token_exchange' });
    expect(backend.opened).toBe(0);
    await connection.close();
  });
});
