/**
 * An HTTP proxy in front of the in-process API server that can leave chosen paths unanswered or
 * answer them with a chosen status, and records every request (method, path, whether it asked for
 * metadata only).
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A status to answer a path with, `times` times (forever when absent). */
export interface ProxyFailure {
  status: number;
  reason: string;
  times?: number;
}

export interface ApiProxy {
  url: string;
  /** Paths left unanswered. */
  hung: Set<string>;
  /** Paths answered with a status instead. */
  failing: Map<string, ProxyFailure>;
  /** `METHOD path` of every request. */
  requests: string[];
  /** `METHOD path` of the requests that asked for metadata only (`as=PartialObjectMetadata`). */
  metadataRequests: string[];
  close(): Promise<void>;
}

function answerFailure(res: import('node:http').ServerResponse, failure: ProxyFailure): void {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: failure.reason,
    code: failure.status,
    message: `injected ${failure.status}`,
  });
  res.writeHead(failure.status, { 'content-type': 'application/json' });
  res.end(body);
}

export async function startApiProxy(target: string): Promise<ApiProxy> {
  const hung = new Set<string>();
  const failing = new Map<string, ProxyFailure>();
  const requests: string[] = [];
  const metadataRequests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const line = `${req.method} ${path}`;
    requests.push(line);
    if (String(req.headers.accept ?? '').includes('as=PartialObjectMetadata')) {
      metadataRequests.push(line);
    }
    if (hung.has(path)) return;
    const failure = failing.get(path);
    if (failure !== undefined) {
      if (failure.times !== undefined && --failure.times <= 0) failing.delete(path);
      answerFailure(res, failure);
      return;
    }
    const upstream = httpRequest(`${target}${req.url}`, {
      method: req.method,
      headers: req.headers,
    });
    upstream.on('response', (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hung,
    failing,
    requests,
    metadataRequests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
