import type { Readable } from 'node:stream';
import type { ConnectionInput } from './connection.js';
import { discard } from './http.js';
import { DURATION_RANGES, type Timing } from './options.js';
import { ProtocolError, parseChange, parseHeartbeat, parseList } from './protocol.js';
import { refusalOf } from './refusal.js';
import { answerOf, CLOSE, get, logMalformed, noAnswer, type Session } from './session.js';
import { type SseEvent, SseParser } from './sse.js';

/**
 * A live stream counts as held (the backoff and the count of streams not held start again) once
 * it has been live this long, or once it applied a change. Until then a stream that ends is one
 * that could not be held: a proxy that cuts streams after their first bytes sends the client to
 * the long-poll instead of into a reconnect loop.
 */
export const STREAM_HELD_MS = 30_000;

/**
 * One event stream, from connecting to its end: resumes with `Last-Event-ID` from the version
 * held, reports `streamLive` at the first heartbeat of a ready sidecar and `streamHeld` once it
 * held, and returns what ended it.
 */
export async function followByStream(session: Session): Promise<ConnectionInput> {
  const { settings, replica } = session;
  const attempt = new AbortController();
  const signal = AbortSignal.any([session.stop, attempt.signal]);
  const headers: Record<string, string> = { ...settings.auth, accept: 'text/event-stream' };
  const held = replica.sidecarVersion;
  if (held !== undefined) headers['last-event-id'] = String(held);
  try {
    let response: Awaited<ReturnType<typeof get>>;
    try {
      response = await get(session, 'v1/events', headers, signal);
    } catch (error) {
      return noAnswer(session, error);
    }
    const refused = refusalOf(answerOf(response), '/v1/events', {
      url: settings.url,
      hasToken: settings.auth.authorization !== undefined,
    });
    if (refused !== undefined || !isEventStream(response.headers['content-type'])) {
      discard(response);
      return refused ?? { type: 'streamNotHeld' };
    }
    replica.noteAccess(response.headers['vmcp-access']);
    return await readEventStream(response, session);
  } finally {
    attempt.abort();
  }
}

function isEventStream(contentType: string | undefined): boolean {
  return contentType?.startsWith('text/event-stream') === true;
}

/** How long a live stream may stay silent: the option, else three announced heartbeats. */
export function idleLimit(timing: Timing, heartbeatIntervalMs: number): number {
  const { max } = DURATION_RANGES.idleTimeoutMs;
  return timing.idleTimeoutMs ?? Math.min(Math.max(3 * heartbeatIntervalMs, 1000), max);
}

/**
 * Reads an event stream until it ends, stalls or says something malformed, and resolves with
 * what ended it. Silence is measured from the last bytes received, whole events or not: a large
 * event arriving slowly is not a stall. The stream is destroyed at the end.
 */
export function readEventStream(response: Readable, session: Session): Promise<ConnectionInput> {
  return new Promise((resolve) => new StreamReading(response, session, resolve).start());
}

/** The state of one event stream while it is read. */
class StreamReading {
  readonly #response: Readable;
  readonly #session: Session;
  readonly #resolve: (input: ConnectionInput) => void;
  readonly #parser = new SseParser((event) => this.#onEvent(event));
  /** Whether its first heartbeat came (from a ready sidecar), and when. */
  #live = false;
  #liveAt = 0;
  #held = false;
  /** How long it may stay silent: the connect timeout, then the idle limit once live. */
  #limit: number;
  #lastBytesAt: number;
  #settled = false;
  #cancelTimer = (): void => undefined;

  constructor(response: Readable, session: Session, resolve: (input: ConnectionInput) => void) {
    this.#response = response;
    this.#session = session;
    this.#resolve = resolve;
    this.#limit = session.settings.timing.connectTimeoutMs;
    this.#lastBytesAt = session.settings.clock.now();
  }

  start(): void {
    const response = this.#response;
    this.#cancelTimer = this.#session.settings.clock.setTimer(this.#limit, this.#watch);
    response.setEncoding('utf8');
    response.on('data', (text: string) => {
      if (this.#settled) return;
      this.#lastBytesAt = this.#session.settings.clock.now();
      try {
        this.#parser.push(text);
      } catch (error) {
        // An event past the parser's limit: thrown here, it would be the process's to catch.
        logMalformed(this.#session, error);
        this.#finish(this.#dropped('malformed'));
      }
    });
    const ended = (): void =>
      this.#finish(this.#live ? this.#dropped('ended') : { type: 'streamNotHeld' });
    response.once('end', ended);
    response.once('close', ended);
    response.once('error', ended);
  }

  // One timer, re-armed for what is left when it fires: cheap whatever the rate of bytes.
  readonly #watch = (): void => {
    const { clock, logger, url } = this.#session.settings;
    const idle = clock.now() - this.#lastBytesAt;
    if (idle < this.#limit) {
      this.#cancelTimer = clock.setTimer(this.#limit - idle, this.#watch);
      return;
    }
    logger?.debug({ url, idleMs: idle }, 'event stream silent; dropping it');
    this.#finish(this.#live ? this.#dropped('stall') : { type: 'streamNotHeld' });
  };

  /** A heartbeat (the first one makes it live), a snapshot or a change. */
  #onEvent(event: SseEvent): void {
    if (this.#settled) return;
    try {
      if (event.type === 'heartbeat') this.#onHeartbeat(event.data);
      else if (event.type === 'snapshot' || event.type === 'change') this.#onContent(event);
    } catch (error) {
      logMalformed(this.#session, error, event.type);
      this.#finish(this.#dropped('malformed'));
    }
  }

  #onHeartbeat(data: string): void {
    const heartbeat = parseHeartbeat(data);
    this.#session.replica.announce(heartbeat.version);
    if (this.#live) {
      const { clock } = this.#session.settings;
      if (!this.#held && clock.now() - this.#liveAt >= STREAM_HELD_MS) this.#markHeld();
      return;
    }
    if (!heartbeat.ready) {
      this.#finish({ type: 'notReady' });
      return;
    }
    const { clock, timing } = this.#session.settings;
    this.#live = true;
    this.#liveAt = clock.now();
    // From now on the idle limit, counted from now (not the connect timeout from the start).
    this.#limit = idleLimit(timing, heartbeat.intervalMs);
    this.#cancelTimer();
    this.#cancelTimer = clock.setTimer(this.#limit, this.#watch);
    this.#session.report({ type: 'streamLive' });
  }

  #onContent(event: SseEvent): void {
    if (!this.#live) throw new ProtocolError(`a ${event.type} before the first heartbeat`);
    const { replica } = this.#session;
    if (event.type === 'snapshot') replica.takeSnapshot(parseList(event.data, 'snapshot'));
    else if (replica.takeChange(parseChange(event.data)) && !this.#held) this.#markHeld();
  }

  #markHeld(): void {
    this.#held = true;
    this.#session.report({ type: 'streamHeld' });
  }

  #dropped(reason: 'ended' | 'stall' | 'malformed'): ConnectionInput {
    return { type: 'dropped', reason, held: this.#held };
  }

  /** Ends the stream with what happened; only the first call counts. */
  #finish(input: ConnectionInput): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#cancelTimer();
    this.#parser.end();
    this.#response.destroy();
    this.#resolve(this.#session.stop.aborted ? CLOSE : input);
  }
}
