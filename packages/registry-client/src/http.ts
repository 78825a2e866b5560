import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { Clock } from './clock.js';

/** A request that got no answer: refused, reset, or silent past its deadline. */
export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
}

/** Options of {@link send}. */
export interface SendOptions {
  headers: Record<string, string>;
  signal: AbortSignal;
  /** The answer's headers must arrive within this. */
  timeoutMs: number;
  clock: Clock;
}

let httpsRequest: typeof httpRequest | undefined;

/**
 * A GET whose promise settles with the answer's headers (the body is left to read) or rejects
 * with {@link NoAnswerError}, or the signal's reason when aborted. node:https is loaded only for
 * an https URL.
 */
export async function send(url: URL, options: SendOptions): Promise<IncomingMessage> {
  options.signal.throwIfAborted();
  if (url.protocol === 'https:') httpsRequest ??= (await import('node:https')).request;
  const request = url.protocol === 'https:' ? (httpsRequest as typeof httpRequest) : httpRequest;
  return new Promise((resolve, reject) => {
    const requestOptions: RequestOptions = { headers: options.headers, signal: options.signal };
    const req = request(url, requestOptions);
    const cancel = options.clock.setTimer(options.timeoutMs, () =>
      req.destroy(new NoAnswerError(`no answer within ${options.timeoutMs} ms`)),
    );
    req.once('response', (response) => {
      cancel();
      resolve(response);
    });
    req.once('error', (error) => {
      cancel();
      reject(options.signal.aborted ? options.signal.reason : asNoAnswer(error));
    });
    req.end();
  });
}

/**
 * The whole body, gunzipped when it came compressed, as text. Rejects with
 * {@link NoAnswerError} when the connection breaks first.
 */
export function readBody(response: IncomingMessage): Promise<string> {
  const source =
    response.headers['content-encoding'] === 'gzip' ? response.pipe(createGunzip()) : response;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    source.on('data', (chunk: Buffer) => chunks.push(chunk));
    source.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    const fail = (error?: Error): void => {
      response.destroy();
      reject(asNoAnswer(error ?? new Error('the connection closed during the answer')));
    };
    source.once('error', fail);
    response.once('aborted', () => fail());
    response.once('close', () => {
      if (!response.complete) fail();
    });
  });
}

/** Reads and discards what is left of an answer, so that its connection can be reused. */
export function discard(response: IncomingMessage): void {
  response.resume();
  response.once('error', () => undefined);
}

/**
 * Retry-After in seconds (the only form the sidecar or a proxy in a pod sends), as ms. The
 * connection honours it up to the backoff's maximum (see `connection.ts`), whatever it says.
 */
export function retryAfterMs(response: IncomingMessage): number | undefined {
  const value = response.headers['retry-after'];
  return value !== undefined && /^\d{1,5}$/.test(value) ? Number(value) * 1000 : undefined;
}

function asNoAnswer(error: Error): NoAnswerError {
  if (error instanceof NoAnswerError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new NoAnswerError(code ?? error.message);
}
