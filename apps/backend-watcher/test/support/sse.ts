import { EVENTUALLY_TIMEOUT_MS, eventually } from '@vmcp/test-support';

/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  event: string;
  id: string | undefined;
  data: unknown;
}

/**
 * A minimal SSE client over fetch: connects, collects events, and lets a test wait for the
 * n-th one. `heartbeat` events are kept apart (in `heartbeats`), comments and `retry:` lines are
 * ignored.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly heartbeats: SseEvent[] = [];
  readonly #controller = new AbortController();
  readonly #waiters = new Set<() => void>();
  response: Response | undefined;
  ended = false;

  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    client.response = await fetch(url, { headers, signal: client.#controller.signal });
    void client.#read();
    return client;
  }

  async #read(): Promise<void> {
    const body = this.response?.body;
    if (!body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          this.#parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted or reset.
    } finally {
      this.ended = true;
      this.#wake();
    }
  }

  #parse(block: string): void {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line.startsWith('retry:')) continue;
      const colon = line.indexOf(':');
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    const parsed = { event, id, data: JSON.parse(data.join('\n')) };
    if (event === 'heartbeat') this.heartbeats.push(parsed);
    else this.events.push(parsed);
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
  }

  /** Resolves once `count` events arrived; rejects if the stream ends first or at the ceiling. */
  async waitFor(count: number, timeoutMs = EVENTUALLY_TIMEOUT_MS): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (this.ended) throw new Error(`stream ended after ${this.events.length} events`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.events.length} of ${count} events arrived`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
    return this.events.slice(0, count);
  }

  /** Resolves once the server ended the stream. */
  async waitForEnd(timeoutMs = EVENTUALLY_TIMEOUT_MS): Promise<void> {
    await eventually(() => this.ended, { timeoutMs, what: 'the end of the stream' });
  }

  close(): void {
    this.#controller.abort();
  }
}
