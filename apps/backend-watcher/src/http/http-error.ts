/**
 * A failure answered with `{ "error": { status, message } }` and its `headers` (`Allow`,
 * `Retry-After`, `WWW-Authenticate`). An expected answer to a client's mistake or to load, never
 * a bug: it is not logged and not counted as a request error.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
