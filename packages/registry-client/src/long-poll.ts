import type { ConnectionInput } from './connection.js';
import { discard, readBody } from './http.js';
import { probeStreams, type StreamProbes } from './probe.js';
import { type BackendList, ProtocolError, parseList } from './protocol.js';
import { refusalOf } from './refusal.js';
import { answerOf, get, logMalformed, noAnswer, type Session } from './session.js';

/**
 * Follows the sidecar by long-poll (`/v1/backends?watch=N`, gzip) until a poll fails or, in
 * `auto` mode, a probe finds that a stream can be held again (`streamAvailable`). Reports
 * `pollAnswered` for every answer. A sidecar whose `/readyz` says 503 is not taken.
 */
export async function followByLongPoll(session: Session, probe: boolean): Promise<ConnectionInput> {
  const readiness = await checkReady(session);
  if (readiness !== undefined) return readiness;
  const probes = probe ? probeStreams(session) : undefined;
  try {
    for (;;) {
      const ended = await pollOnce(session, probes);
      if (ended !== undefined) return ended;
    }
  } finally {
    probes?.stop();
  }
}

/** One long-poll: undefined when polling goes on, else what ended it. */
async function pollOnce(
  session: Session,
  probes: StreamProbes | undefined,
): Promise<ConnectionInput | undefined> {
  const { settings, replica } = session;
  const held = replica.sidecarVersion;
  const seconds = settings.timing.longPollSeconds;
  const path =
    held === undefined ? 'v1/backends' : `v1/backends?watch=${held}&timeoutSeconds=${seconds}`;
  const signal = probes ? AbortSignal.any([session.stop, probes.held]) : session.stop;
  let list: BackendList | undefined;
  try {
    const headers = { ...settings.auth, 'accept-encoding': 'gzip' };
    const timeoutMs = seconds * 1000 + settings.timing.connectTimeoutMs;
    const response = await get(session, path, headers, signal, timeoutMs);
    if (response.statusCode === 304) discard(response);
    else {
      const refused = refusalOf(answerOf(response), '/v1/backends', {
        url: settings.url,
        hasToken: settings.auth.authorization !== undefined,
      });
      if (refused !== undefined) {
        discard(response);
        return refused;
      }
      replica.noteAccess(response.headers['vmcp-access']);
      list = parseList(await readBody(response), 'list');
    }
  } catch (error) {
    return pollFailed(session, error, probes);
  }
  if (list !== undefined) replica.takeList(list);
  session.report({ type: 'pollAnswered' });
  return probes?.held.aborted ? { type: 'streamAvailable' } : undefined;
}

/** What a failed long-poll means: a stream held again, a malformed answer, or no answer. */
function pollFailed(
  session: Session,
  error: unknown,
  probes: StreamProbes | undefined,
): ConnectionInput {
  if (probes?.held.aborted && !session.stop.aborted) return { type: 'streamAvailable' };
  if (error instanceof ProtocolError) {
    logMalformed(session, error);
    return { type: 'dropped', reason: 'malformed' };
  }
  return noAnswer(session, error);
}

/** `/readyz` before the first long-poll of a run: a sidecar that is not ready is not taken. */
async function checkReady(session: Session): Promise<ConnectionInput | undefined> {
  try {
    const response = await get(session, 'readyz', {}, session.stop);
    discard(response);
    // Anything but 503 (a proxy that does not route /readyz) leaves the answers to tell.
    return response.statusCode === 503 ? { type: 'notReady' } : undefined;
  } catch (error) {
    return noAnswer(session, error);
  }
}
