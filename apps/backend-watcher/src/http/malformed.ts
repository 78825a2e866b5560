import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '@vmcp/kube-runtime';
import type { LastResort } from './last-resort.js';
import { ALLOWED_METHODS } from './router.js';

/** What Node's HTTP parser (or its request timer) reports with a `clientError`. */
export interface ParserError extends Error {
  code?: string;
  /** The chunk being parsed when it failed. */
  rawPacket?: Buffer;
  /** Where in `rawPacket` it failed. */
  bytesParsed?: number;
}

/**
 * How long a connection whose request was refused stays open after the answer, so that the
 * client can read it before the socket closes (closing with unread input resets the connection
 * and can lose the answer).
 */
const LINGER_MS = 2_000;

/** `TOKEN SP TARGET SP HTTP/x.y`: a request line, whatever its method. */
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S+ HTTP\/\d\.\d\r?$/;

/**
 * The status for a request Node's parser refused, or undefined when there is nobody to answer
 * (the connection failed: a reset, a broken pipe):
 * - 408: the request did not arrive within the server's `headersTimeout`/`requestTimeout`;
 * - 414: the request line alone overflowed the header limit, 431 when header fields did;
 * - 405: a well-formed request line with a method the parser does not know;
 * - 413: chunk extensions too large; 400 for anything else malformed.
 */
export function malformedStatus(error: ParserError): number | undefined {
  const raw = error.rawPacket?.toString('latin1') ?? '';
  const at = error.bytesParsed ?? 0;
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'HPE_HEADER_OVERFLOW':
      return isRequestLineOverflow(raw, at) ? 414 : 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'HPE_INVALID_METHOD':
      return REQUEST_LINE.test(firstLine(raw.slice(messageStart(raw, at)))) ? 405 : 400;
    default:
      return error.code?.startsWith('HPE_') ? 400 : undefined;
  }
}

/** Where the message that failed at `at` starts: after the last blank line before it. */
function messageStart(raw: string, at: number): number {
  const end = raw.lastIndexOf('\r\n\r\n', at - 1);
  return end === -1 ? 0 : end + 4;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

/**
 * True when the failing message's request line has not ended where the parser gave up: a method
 * and a space, then no line break. (When the line arrived over several reads, only the last one
 * is here: it is then reported as header fields too large, the general answer.)
 */
function isRequestLineOverflow(raw: string, at: number): boolean {
  const message = raw.slice(messageStart(raw, at), at);
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ /.test(message) && !message.includes('\n');
}

/** A complete HTTP/1.1 answer with a JSON error body that closes the connection. */
export function rawErrorResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): string {
  const body = `${JSON.stringify({ error: { status, message } })}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json',
    'cache-control: no-store',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

const MESSAGES: Record<number, string> = {
  400: 'malformed request',
  405: 'method not allowed',
  408: 'the request did not arrive in time',
  413: 'chunk extensions too large',
  414: 'the request target is too long',
  431: 'the request header fields are too large',
};

/**
 * Answers what never becomes a request: what Node's parser refuses (`clientError`) and CONNECT
 * (`connect`), on the raw socket, with the same JSON error body as any other 4xx, then closes
 * the connection. Responses already in flight on that connection (pipelined requests before the
 * bad one) are sent first; the error answer follows them. Bytes after a `Connection: close`
 * request are ignored. Never throws: a failure here is recorded and the socket destroyed.
 */
export class MalformedRequests {
  readonly #lastResort: LastResort;
  readonly #clock: Clock;
  readonly #served: (route: string, status: number) => void;
  /** Responses in flight per socket: an error answer waits for them. */
  readonly #responding = new WeakMap<Socket, number>();
  /** What to do once a socket's responses in flight are all sent. */
  readonly #afterResponses = new WeakMap<Socket, () => void>();
  /** Sockets already answered (or left to close): the parser may report more errors on them. */
  readonly #answered = new WeakSet<Socket>();

  constructor(options: {
    lastResort: LastResort;
    clock: Clock;
    served: (route: string, status: number) => void;
  }) {
    this.#lastResort = options.lastResort;
    this.#clock = options.clock;
    this.#served = options.served;
  }

  /** Counts a response in flight on its socket until it closes. */
  track(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    this.#responding.set(socket, (this.#responding.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const open = (this.#responding.get(socket) ?? 1) - 1;
      if (open > 0) {
        this.#responding.set(socket, open);
        return;
      }
      this.#responding.delete(socket);
      const then = this.#afterResponses.get(socket);
      this.#afterResponses.delete(socket);
      if (then) this.#lastResort.guard('malformed', then, () => socket.destroy())();
    });
  }

  /** The `clientError` listener. */
  readonly clientError = (error: ParserError, socket: Socket): void => {
    try {
      if (this.#answered.has(socket)) return;
      this.#answered.add(socket);
      const status = malformedStatus(error);
      const responding = this.#responding.has(socket);
      if (status === undefined || (error.code === 'HPE_CLOSED_CONNECTION' && !responding)) {
        socket.destroy();
        return;
      }
      // The request before said Connection: close; Node closes once its answer is sent.
      if (error.code === 'HPE_CLOSED_CONNECTION') return;
      const detail = status === 400 && error.code ? `: ${error.code}` : '';
      const headers: Record<string, string> = status === 405 ? { allow: ALLOWED_METHODS } : {};
      const answer = () =>
        this.#answer(socket, 'malformed', status, `${MESSAGES[status]}${detail}`, headers);
      if (responding) this.#afterResponses.set(socket, answer);
      else answer();
    } catch (failure) {
      this.#lastResort.record('malformed', failure);
      socket.destroy();
    }
  };

  /** The `connect` listener: CONNECT is a proxy's method, not this server's. */
  readonly connect = (req: IncomingMessage, socket: Socket): void => {
    try {
      this.#answered.add(socket);
      this.#answer(socket, 'connect', 405, `method ${req.method} is not allowed`, {
        allow: ALLOWED_METHODS,
      });
    } catch (failure) {
      this.#lastResort.record('malformed', failure);
      socket.destroy();
    }
  };

  /** Writes the answer, ends the connection, and destroys it once the client had time to read. */
  #answer(
    socket: Socket,
    route: string,
    status: number,
    message: string,
    headers: Record<string, string>,
  ): void {
    // Errors of a connection being closed (a reset while the answer goes out) end it, no more.
    socket.on('error', () => socket.destroy());
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    this.#served(route, status);
    const cancel = this.#clock.setTimer(LINGER_MS, () => socket.destroy());
    socket.once('close', cancel);
    socket.end(rawErrorResponse(status, message, headers));
  }
}
