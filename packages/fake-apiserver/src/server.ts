import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize } from './auth.js';
import { installCrd, isCrdType } from './crds.js';
import { discoveryDocument, OPENAPI_V2, openapiDocument } from './discovery.js';
import { type FaultControls, Faults, type InjectedFailure } from './faults.js';
import { handle } from './handlers.js';
import { encodeOpenApiV2, wantsProtobufOpenApi } from './openapi-v2.js';
import { parseRequest } from './request.js';
import { sendJson } from './response.js';
import { ApiFailure } from './status.js';
import { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';
import { serveWatch, type WatchSession } from './watch.js';

// The fake API server's request handling, independent of the transport. A request goes through
// auth (auth.ts), the injected faults (faults.ts), discovery and OpenAPI (discovery.ts), then is
// parsed (request.ts) and handed to its verb's handler (handlers.ts); a watch is a session of
// its own (watch.ts), and CRDs take effect as they are stored (crds.ts).

/** Options of the request handler. */
export interface HandlerOptions {
  tokens: readonly string[];
  historyLimit: number;
  bookmarkIntervalMs: number;
  /** The server's own address, for discovery. */
  address: () => string;
}

const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/livez']);

/** Serves requests from an in-memory store, with fault controls for tests. */
export class FakeApi implements FaultControls {
  readonly store: ObjectStore;
  readonly #options: HandlerOptions;
  readonly #watches = new Set<WatchSession>();
  readonly #faults = new Faults(this.#watches);

  constructor(options: HandlerOptions) {
    this.#options = options;
    this.store = new ObjectStore(options.historyLimit);
  }

  // ---- faults ----------------------------------------------------------------------------
  dropWatches(): void {
    this.#faults.dropWatches();
  }

  stall(on: boolean): void {
    this.#faults.stall(on);
  }

  failNext(count: number, failure: InjectedFailure): void {
    this.#faults.failNext(count, failure);
  }

  compact(): void {
    this.store.compact();
  }

  openWatches(): number {
    return this.#watches.size;
  }

  /** Ends every watch, and lets every held request go (at close). */
  closeAll(): void {
    for (const watch of [...this.#watches]) watch.end();
    this.#faults.releaseHeld();
  }

  /** Creates an object from a manifest (CRDs are installed and served at once). */
  load(object: KubeObject, defaultNamespace = 'default'): KubeObject {
    const [group, version] = (object.apiVersion ?? '').includes('/')
      ? (object.apiVersion as string).split('/')
      : ['', object.apiVersion ?? 'v1'];
    const type = [...this.store.types.values()].find(
      (t) => t.group === group && t.kind === object.kind && t.versions.includes(version ?? ''),
    );
    if (!type)
      throw ApiFailure.badRequest(`no kind ${object.kind} is served in ${object.apiVersion}`);
    const namespace = type.namespaced
      ? (object.metadata?.namespace ?? defaultNamespace)
      : undefined;
    const { status, ...rest } = object as KubeObject & { status?: unknown };
    const created = this.store.create(type, namespace, rest as KubeObject, {
      version: version ?? 'v1',
    });
    if (isCrdType(this.store, type)) installCrd(this.store, created);
    else if (status !== undefined && type.statusSubresource) {
      const name = created.metadata.name ?? '';
      return this.store.update(type, namespace, name, { ...created, status } as KubeObject, {
        subresource: 'status',
      });
    }
    return created;
  }

  // ---- requests --------------------------------------------------------------------------
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#faults.admit(() => {
      this.#dispatch(req, res).catch((error: unknown) => {
        const failure =
          error instanceof ApiFailure
            ? error
            : new ApiFailure(
                500,
                'InternalError',
                `Internal error occurred: ${(error as Error)?.message ?? error}`,
              );
        if (!res.headersSent) sendJson(res, failure.code, failure.toStatus());
        else res.destroy();
      });
    });
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    authorize(req, path, this.#options.tokens);
    if (HEALTH_PATHS.has(path)) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (this.#faults.answerWithFailure(res)) return;
    if (req.method === 'GET' || req.method === undefined) {
      if (path === '/openapi/v2' && wantsProtobufOpenApi(req.headers.accept)) {
        // Served as kube-apiserver serves it (http.ServeContent: a type sniffed from the bytes).
        res
          .writeHead(200, { 'content-type': 'application/octet-stream' })
          .end(encodeOpenApiV2(OPENAPI_V2));
        return;
      }
      const document = this.#document(path);
      if (document !== undefined) {
        sendJson(res, 200, document);
        return;
      }
    }
    const request = await parseRequest(req, url, path, this.store);
    handle(request, {
      res,
      store: this.store,
      watch: (scope, query) => serveWatch(res, scope, query, this.#watchSettings(), this.#watches),
    });
  }

  #watchSettings() {
    return { bookmarkIntervalMs: this.#options.bookmarkIntervalMs, stalled: this.#faults.stalled };
  }

  /** A discovery or OpenAPI document, or undefined for any other path. */
  #document(path: string): unknown {
    const discovery = discoveryDocument(path, this.store, this.#options.address());
    if (discovery !== undefined) return discovery;
    return path.startsWith('/openapi/') ? openapiDocument(path, this.store) : undefined;
  }
}
