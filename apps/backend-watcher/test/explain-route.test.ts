import { eventually } from '@vmcp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { FreshExplains } from '../src/http/fresh-explains.js';
import { HttpError } from '../src/http/http-error.js';
import type { ExplainOptions } from '../src/http.js';
import { type Harness, startApi } from './support/api.js';

/** An explain whose answers the test releases, recording every call and its signal. */
function controlledExplain() {
  const calls: { name: string; options: ExplainOptions; release(value: unknown): void }[] = [];
  const explain = (name: string, options: ExplainOptions) =>
    new Promise<unknown>((resolve, reject) => {
      calls.push({ name, options, release: resolve });
      options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true });
    });
  return { calls, explain };
}

describe('FreshExplains', () => {
  it('shares one explain among the requests for a name in flight', async () => {
    const { calls, explain } = controlledExplain();
    const fresh = new FreshExplains(2, (name, signal) => explain(name, { fresh: true, signal }));
    const first = fresh.run('github', new AbortController().signal);
    const second = fresh.run('github', new AbortController().signal);
    await eventually(() => calls.length === 1);
    calls[0]?.release({ name: 'github' });
    expect(await first).toEqual({ name: 'github' });
    expect(await second).toEqual({ name: 'github' });
    expect(fresh.size).toBe(0);
    // Once answered, the next request reads afresh.
    const third = fresh.run('github', new AbortController().signal);
    await eventually(() => calls.length === 2);
    calls[1]?.release({});
    await third;
  });

  it('cancels the reads once every request for the name has gone, not before', async () => {
    const { calls, explain } = controlledExplain();
    const fresh = new FreshExplains(2, (name, signal) => explain(name, { fresh: true, signal }));
    const [left, stays] = [new AbortController(), new AbortController()];
    const leaving = fresh.run('github', left.signal);
    const staying = fresh.run('github', stays.signal);
    await eventually(() => calls.length === 1);
    left.abort();
    await expect(leaving).rejects.toThrow();
    expect(calls[0]?.options.signal.aborted).toBe(false);
    stays.abort();
    await expect(staying).rejects.toThrow();
    expect(calls[0]?.options.signal.aborted).toBe(true);
    expect(fresh.size).toBe(0);
  });

  it('refuses another name beyond the cap with 503 and Retry-After, and joins a name in flight', async () => {
    const { calls, explain } = controlledExplain();
    const fresh = new FreshExplains(2, (name, signal) => explain(name, { fresh: true, signal }));
    const signal = new AbortController().signal;
    const running = [fresh.run('a', signal), fresh.run('b', signal)];
    let refusal: unknown;
    try {
      await fresh.run('c', signal);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(HttpError);
    expect(refusal).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
    const joined = fresh.run('a', signal);
    await eventually(() => calls.length === 2);
    for (const call of calls) call.release(call.name);
    expect(await Promise.all([...running, joined])).toEqual(['a', 'b', 'a']);
    const afterwards = fresh.run('c', signal);
    await eventually(() => calls.length === 3);
    calls[2]?.release('c');
    expect(await afterwards).toBe('c');
  });
});

describe('GET /v1/explain/{name}', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('reads afresh only for a request with the API token', async () => {
    const seen: boolean[] = [];
    h = await startApi({
      apiToken: 'token',
      explain: async (name, { fresh }) => {
        seen.push(fresh);
        return { name };
      },
    });
    expect((await fetch(`${h.url}/v1/explain/github`)).status).toBe(200);
    const withToken = { headers: { authorization: 'Bearer token' } };
    expect((await fetch(`${h.url}/v1/explain/github`, withToken)).status).toBe(200);
    expect(seen).toEqual([false, true]);
  });

  it('never reads afresh when the sidecar has no token, whatever the request carries', async () => {
    const seen: boolean[] = [];
    h = await startApi({
      explain: async (name, { fresh }) => {
        seen.push(fresh);
        return { name };
      },
    });
    await fetch(`${h.url}/v1/explain/github`, { headers: { authorization: 'Bearer anything' } });
    expect(seen).toEqual([false]);
  });

  it('stops the reads when the client goes away, and counts no error', async () => {
    const { calls, explain } = controlledExplain();
    const server = await startApi({ apiToken: 'token', explain });
    h = server;
    const client = new AbortController();
    const request = fetch(`${server.url}/v1/explain/github`, {
      headers: { authorization: 'Bearer token' },
      signal: client.signal,
    }).catch(() => undefined);
    await eventually(() => calls.length === 1);
    client.abort();
    await request;
    await eventually(() => calls[0]?.options.signal.aborted === true, {
      what: 'the reads cancelled',
    });
    const text = await server.metrics.metrics();
    expect(text).toContain('# TYPE vmcp_http_request_errors_total counter');
    expect(text).not.toMatch(/^vmcp_http_request_errors_total\{/m);
  });

  it('refuses a maxFreshExplains that is not a whole number from 1 to 64', async () => {
    for (const maxFreshExplains of [0, 2.5, 65]) {
      await expect(startApi({ maxFreshExplains })).rejects.toThrow(
        `maxFreshExplains ${maxFreshExplains} is not a whole number from 1 to 64`,
      );
    }
  });

  it('answers 503 with Retry-After beyond two names read at once', async () => {
    const { calls, explain } = controlledExplain();
    const server = await startApi({ apiToken: 'token', explain });
    h = server;
    const headers = { authorization: 'Bearer token' };
    const pending = ['a', 'b'].map((name) =>
      fetch(`${server.url}/v1/explain/${name}`, { headers }),
    );
    await eventually(() => calls.length === 2);
    const refused = await fetch(`${server.url}/v1/explain/c`, { headers });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    // A request without the token reads nothing, so the cap does not apply to it.
    const held = fetch(`${server.url}/v1/explain/c`);
    await eventually(() => calls.length === 3);
    expect(calls[2]?.options.fresh).toBe(false);
    for (const call of calls) call.release({ name: call.name });
    expect((await Promise.all([...pending, held])).map((r) => r.status)).toEqual([200, 200, 200]);
  });
});
