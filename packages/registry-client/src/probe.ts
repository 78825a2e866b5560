import { sleep } from './clock.js';
import { discard } from './http.js';
import { parseHeartbeat } from './protocol.js';
import { get, type Session } from './session.js';
import { SseParser } from './sse.js';

/** Stream probes while long-polling: `held` aborts once a probe found a stream can be held. */
export interface StreamProbes {
  readonly held: AbortSignal;
  stop(): void;
}

/** Every `streamRetryMs` until stopped, tries whether a stream can be held again. */
export function probeStreams(session: Session): StreamProbes {
  const held = new AbortController();
  const stop = new AbortController();
  const signal = AbortSignal.any([session.stop, stop.signal]);
  const { clock, timing } = session.settings;
  void (async () => {
    while (!signal.aborted) {
      if (!(await sleep(clock, timing.streamRetryMs, signal))) return;
      if (await probe(session, signal)) {
        held.abort();
        return;
      }
    }
  })().catch(() => undefined);
  return { held: held.signal, stop: () => stop.abort() };
}

/**
 * Whether an event stream delivers a ready heartbeat within the connect timeout. It resumes
 * with `Last-Event-ID` from the version held, as the stream itself would: the sidecar then
 * sends the heartbeat and the changes since (usually none), not a whole snapshot per probe.
 */
async function probe(session: Session, signal: AbortSignal): Promise<boolean> {
  const { settings, replica } = session;
  const attempt = new AbortController();
  const headers: Record<string, string> = { ...settings.auth, accept: 'text/event-stream' };
  const held = replica.sidecarVersion;
  if (held !== undefined) headers['last-event-id'] = String(held);
  try {
    const response = await get(
      session,
      'v1/events',
      headers,
      AbortSignal.any([signal, attempt.signal]),
    );
    if (response.statusCode !== 200) {
      discard(response);
      return false;
    }
    return await new Promise<boolean>((resolve) => {
      let settled = false;
      const finish = (heldNow: boolean): void => {
        if (settled) return;
        settled = true;
        cancel();
        response.destroy();
        resolve(heldNow);
      };
      const cancel = settings.clock.setTimer(settings.timing.connectTimeoutMs, () => finish(false));
      const parser = new SseParser((event) => {
        if (event.type !== 'heartbeat') return;
        try {
          finish(parseHeartbeat(event.data).ready);
        } catch {
          finish(false);
        }
      });
      response.setEncoding('utf8');
      response.on('data', (text: string) => {
        try {
          parser.push(text);
        } catch {
          finish(false); // an event past the parser's limit: not a stream to follow
        }
      });
      response.once('close', () => finish(false));
      response.once('error', () => finish(false));
    });
  } catch {
    return false;
  } finally {
    attempt.abort();
  }
}
