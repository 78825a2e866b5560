import { request } from 'node:https';

/** Where and how to reach an API server: for the harness's own calls. */
export interface ApiConnection {
  server: string;
  token: string;
  /** PEM of the server's self-signed certificate. */
  ca: string;
}

/** One JSON request; resolves with the status and the parsed body (never rejects on HTTP errors). */
export function apiRequest(
  connection: ApiConnection,
  method: string,
  path: string,
  body?: unknown,
  options: { signal?: AbortSignal; contentType?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, connection.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: connection.ca,
        headers: {
          authorization: `Bearer ${connection.token}`,
          accept: 'application/json',
          ...(payload === undefined
            ? {}
            : {
                'content-type': options.contentType ?? 'application/json',
                'content-length': Buffer.byteLength(payload),
              }),
        },
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
