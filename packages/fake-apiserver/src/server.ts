import type { IncomingMessage, ServerResponse } from 'node:http';
import { asServed, listAsServed, type Media, negotiate } from './media.js';
import { clone, jsonPatch, mergePatch } from './patch.js';
import type { JsonSchema } from './schema.js';
import { parseFieldSelector, parseLabelSelector, type Selector } from './selectors.js';
import { ApiFailure } from './status.js';
import { ObjectStore, type ResourceType, type StoredEvent, typeKeyOf } from './store.js';
import type { KubeObject } from './types.js';

/** Options of the request handler. */
export interface HandlerOptions {
  tokens: readonly string[];
  historyLimit: number;
  bookmarkIntervalMs: number;
  /** The server's own address, for discovery. */
  address: () => string;
}

/** What tests can do to the server that a real one does not do on demand. */
export interface FaultControls {
  /** Ends every open watch at once, as a dropped connection would. */
  dropWatches(): void;
  /** Accept requests but answer nothing (and send nothing on open watches) until turned off. */
  stall(on: boolean): void;
  /** Answer the next `count` API requests with this status (and `Retry-After`). */
  failNext(
    count: number,
    failure: { status: number; retryAfterSeconds?: number; reason?: string; message?: string },
  ): void;
  /** Forget the change history: a watch from an older resourceVersion gets 410 Gone in-stream. */
  compact(): void;
  /** How many watches are open now (tests wait for one before injecting a fault). */
  openWatches(): number;
}

interface WatchStream {
  res: ServerResponse;
  end(): void;
  paused: boolean;
  pending: string[];
}

const JSON_TYPE = 'application/json';
const ANONYMOUS = 'system:anonymous';
/** What kube-apiserver's system:public-info-viewer role lets an anonymous user read. */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);
const CRD_TYPE_KEY = typeKeyOf('apiextensions.k8s.io', 'customresourcedefinitions');

/** The fake API server's request handling, independent of the transport. */
export class FakeApi implements FaultControls {
  readonly store: ObjectStore;
  readonly #options: HandlerOptions;
  readonly #watches = new Set<WatchStream>();
  #stalled = false;
  readonly #stalledRequests: (() => void)[] = [];
  #failures:
    | {
        count: number;
        status: number;
        retryAfterSeconds?: number;
        reason?: string;
        message?: string;
      }
    | undefined;

  constructor(options: HandlerOptions) {
    this.#options = options;
    this.store = new ObjectStore(options.historyLimit);
  }

  // ---- faults ----------------------------------------------------------------------------
  dropWatches(): void {
    for (const watch of [...this.#watches]) watch.res.destroy();
  }

  stall(on: boolean): void {
    this.#stalled = on;
    for (const watch of this.#watches) watch.paused = on;
    if (!on) {
      for (const watch of this.#watches) {
        for (const chunk of watch.pending.splice(0)) watch.res.write(chunk);
      }
      for (const resume of this.#stalledRequests.splice(0)) resume();
    }
  }

  failNext(
    count: number,
    failure: { status: number; retryAfterSeconds?: number; reason?: string; message?: string },
  ): void {
    this.#failures = { count, ...failure };
  }

  compact(): void {
    this.store.compact();
  }

  openWatches(): number {
    return this.#watches.size;
  }

  /** Ends every watch (at close). */
  closeAll(): void {
    for (const watch of [...this.#watches]) watch.end();
    for (const resume of this.#stalledRequests.splice(0)) resume();
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
    let created = this.store.create(type, namespace, rest as KubeObject, {
      version: version ?? 'v1',
    });
    if (type === this.store.types.get(CRD_TYPE_KEY)) this.#installCrd(created);
    else if (status !== undefined && type.statusSubresource) {
      created = this.store.update(
        type,
        namespace,
        created.metadata.name ?? '',
        { ...created, status } as KubeObject,
        {
          subresource: 'status',
        },
      );
    }
    return created;
  }

  // ---- requests --------------------------------------------------------------------------
  handle(req: IncomingMessage, res: ServerResponse): void {
    const run = (): void => {
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
    };
    if (this.#stalled) this.#stalledRequests.push(run);
    else run();
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    // As kube-apiserver with anonymous auth (its default): a wrong token is refused, a request
    // without credentials is system:anonymous, who may read health and version and nothing else.
    const user = this.#user(req);
    if (user === undefined) throw new ApiFailure(401, 'Unauthorized', 'Unauthorized');
    if (user === ANONYMOUS && !PUBLIC_PATHS.has(path)) {
      throw new ApiFailure(
        403,
        'Forbidden',
        `forbidden: User "${ANONYMOUS}" cannot ${(req.method ?? 'GET').toLowerCase()} path "${path}"`,
      );
    }
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (this.#failures && this.#failures.count > 0) {
      const f = this.#failures;
      f.count -= 1;
      const headers: Record<string, string> = {};
      if (f.retryAfterSeconds !== undefined) headers['retry-after'] = String(f.retryAfterSeconds);
      const failure = new ApiFailure(
        f.status,
        f.reason ??
          (f.status === 429 ? 'TooManyRequests' : f.status >= 500 ? 'InternalError' : 'BadRequest'),
        f.message ?? `injected failure ${f.status}`,
        f.retryAfterSeconds !== undefined ? { retryAfterSeconds: f.retryAfterSeconds } : undefined,
      );
      sendJson(res, f.status, failure.toStatus(), headers);
      return;
    }
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      const discovery = this.#discovery(path);
      if (discovery !== undefined) {
        sendJson(res, 200, discovery);
        return;
      }
      if (path.startsWith('/openapi/')) {
        sendJson(res, 200, this.#openapi(path));
        return;
      }
    }
    const route = this.#route(path);
    const bodyType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (bodyType === 'application/vnd.kubernetes.protobuf') {
      throw new ApiFailure(
        415,
        'UnsupportedMediaType',
        'the body of the request was in an unknown format - accepted media types include: application/json (this fake API server does not decode protobuf)',
      );
    }
    const body =
      method === 'GET' || method === 'DELETE'
        ? await readBody(req, true)
        : await readBody(req, false);
    const query = url.searchParams;
    const strict = query.get('fieldValidation') === 'Strict';
    const dryRun = query.get('dryRun') === 'All';
    const { type, namespace, name, subresource, version } = route;
    const store = this.store;

    if (subresource !== undefined && subresource !== 'status') {
      throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (subresource === 'status' && !type.statusSubresource) {
      throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    }
    const watching = query.get('watch') === 'true' || query.get('watch') === '1';
    const media = negotiate(
      req.headers.accept,
      method !== 'GET' || name !== undefined ? 'object' : watching ? 'watch' : 'list',
    );
    const served = (object: KubeObject): KubeObject =>
      asServed(withVersion(object, type, version), media);

    switch (method) {
      case 'GET': {
        if (name !== undefined) {
          sendJson(res, 200, served(store.get(type, namespace, name)));
          return;
        }
        const selector = combine(
          parseLabelSelector(query.get('labelSelector')),
          parseFieldSelector(query.get('fieldSelector')),
        );
        if (watching) {
          this.#watch(res, type, namespace, selector, query, version, media);
          return;
        }
        sendJson(
          res,
          200,
          listAsServed(this.#list(type, namespace, selector, query, version), media),
        );
        return;
      }
      case 'POST': {
        if (name !== undefined)
          throw new ApiFailure(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
          );
        const object = parseObject(body);
        if (dryRun) {
          sendJson(res, 201, served(object));
          return;
        }
        const created = store.create(type, namespace, object, { strict, version });
        if (type === store.types.get(CRD_TYPE_KEY)) this.#installCrd(created);
        sendJson(res, 201, served(store.get(type, namespace, created.metadata.name ?? '')));
        return;
      }
      case 'PUT': {
        if (name === undefined)
          throw new ApiFailure(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
          );
        const updated = store.update(type, namespace, name, parseObject(body), {
          strict,
          version,
          ...(subresource ? { subresource } : {}),
        });
        if (type === store.types.get(CRD_TYPE_KEY)) this.#installCrd(updated);
        sendJson(res, 200, served(updated));
        return;
      }
      case 'PATCH': {
        if (name === undefined)
          throw new ApiFailure(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
          );
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
        const current = store.get(type, namespace, name);
        const patch = parseJson(body);
        let next: unknown;
        if (
          contentType === 'application/merge-patch+json' ||
          contentType === 'application/strategic-merge-patch+json'
        ) {
          next = mergePatch(clone(current), patch);
        } else if (contentType === 'application/json-patch+json') {
          next = jsonPatch(current, patch);
        } else {
          throw new ApiFailure(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (not ${contentType || 'none'})`,
          );
        }
        const object = next as KubeObject;
        object.metadata ??= {};
        // A patch updates the version it read, unless it names one itself (a precondition).
        const named = (patch as KubeObject | undefined)?.metadata?.resourceVersion;
        object.metadata.resourceVersion =
          typeof named === 'string' ? named : current.metadata.resourceVersion;
        const updated = store.update(type, namespace, name, object, {
          strict,
          version,
          ...(subresource ? { subresource } : {}),
        });
        if (type === store.types.get(CRD_TYPE_KEY)) this.#installCrd(updated);
        sendJson(res, 200, served(updated));
        return;
      }
      case 'DELETE': {
        if (name === undefined)
          throw new ApiFailure(
            405,
            'MethodNotAllowed',
            'deleting a collection is not supported by this server',
          );
        const options =
          body === '' ? {} : (parseJson(body) as { preconditions?: { resourceVersion?: string } });
        const deleted = store.delete(
          type,
          namespace,
          name,
          options?.preconditions?.resourceVersion,
        );
        if (type === store.types.get(CRD_TYPE_KEY)) this.#uninstallCrd(deleted);
        sendJson(res, 200, served(deleted));
        return;
      }
      default:
        throw new ApiFailure(405, 'MethodNotAllowed', `method ${method} is not allowed`);
    }
  }

  /** The user a request authenticates as; undefined for credentials that are not valid. */
  #user(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization;
    if (header === undefined) return ANONYMOUS;
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    return token !== undefined && this.#options.tokens.includes(token) ? 'admin' : undefined;
  }

  // ---- list and watch --------------------------------------------------------------------
  #list(
    type: ResourceType,
    namespace: string | undefined,
    selector: Selector,
    query: URLSearchParams,
    version: string,
  ): { apiVersion: string; kind: string; metadata: Record<string, unknown>; items: KubeObject[] } {
    const limit = query.has('limit') ? Number(query.get('limit')) : 0;
    if (!Number.isInteger(limit) || limit < 0)
      throw ApiFailure.badRequest(`invalid limit "${query.get('limit')}"`);
    let items = this.store.list(type, namespace, selector);
    let listRv = this.store.resourceVersion;
    const token = query.get('continue');
    if (token) {
      let parsed: { rv: number; after: string };
      try {
        parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
          rv: number;
          after: string;
        };
        if (typeof parsed.rv !== 'number' || typeof parsed.after !== 'string')
          throw new Error('shape');
      } catch {
        throw ApiFailure.badRequest('continue key is not valid');
      }
      if (parsed.rv < this.store.oldestWatchable) {
        throw ApiFailure.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      listRv = parsed.rv;
      items = items.filter((o) => keyOf(o) > parsed.after);
    }
    const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
    if (limit > 0 && items.length > limit) {
      const page = items.slice(0, limit);
      metadata.continue = Buffer.from(
        JSON.stringify({ rv: listRv, after: keyOf(page.at(-1) as KubeObject) }),
      ).toString('base64url');
      metadata.remainingItemCount = items.length - limit;
      items = page;
    }
    return {
      apiVersion: type.group ? `${type.group}/${version}` : version,
      kind: type.listKind,
      metadata,
      items: items.map((o) => withVersion(o, type, version)),
    };
  }

  #watch(
    res: ServerResponse,
    type: ResourceType,
    namespace: string | undefined,
    selector: Selector,
    query: URLSearchParams,
    version: string,
    media: Media,
  ): void {
    const store = this.store;
    const rvParam = query.get('resourceVersion') ?? '';
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    const sendInitial = query.get('sendInitialEvents') === 'true';
    if (sendInitial && query.get('resourceVersionMatch') !== 'NotOlderThan') {
      throw ApiFailure.invalid('ListOptions', 'meta.k8s.io', '', [
        {
          field: 'resourceVersionMatch',
          reason: 'FieldValueInvalid',
          message:
            'Invalid value: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
        },
      ]);
    }
    if (sendInitial && !bookmarks) {
      throw ApiFailure.invalid('ListOptions', 'meta.k8s.io', '', [
        {
          field: 'allowWatchBookmarks',
          reason: 'FieldValueInvalid',
          message: 'Invalid value: sendInitialEvents requires allowWatchBookmarks',
        },
      ]);
    }
    const timeoutSeconds = query.has('timeoutSeconds')
      ? Number(query.get('timeoutSeconds'))
      : 1800 + Math.random() * 1800;
    const typeKey = typeKeyOf(type.group, type.plural);
    const inScope = (o: KubeObject | undefined) =>
      o !== undefined &&
      (namespace === undefined || !type.namespaced || o.metadata.namespace === namespace) &&
      selector(o);

    let replay: StoredEvent[] = [];
    let initial: KubeObject[] = [];
    if (rvParam === '' || rvParam === '0' || sendInitial) {
      initial = store.list(type, namespace, selector);
    } else {
      const rv = Number(rvParam);
      if (!/^\d+$/.test(rvParam))
        throw ApiFailure.badRequest(`invalid resource version "${rvParam}"`);
      if (rv > store.resourceVersion) {
        throw new ApiFailure(
          504,
          'Timeout',
          `Too large resource version: ${rv}, current: ${store.resourceVersion}`,
          {
            causes: [
              {
                field: '',
                reason: 'ResourceVersionTooLarge' as never,
                message: 'Too large resource version',
              },
            ],
            retryAfterSeconds: 1,
          },
        );
      }
      const since = store.eventsSince(typeKey, rv);
      if (since === undefined) {
        res.writeHead(200, { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' });
        res.end(
          `${JSON.stringify({
            type: 'ERROR',
            object: new ApiFailure(
              410,
              'Expired',
              `too old resource version: ${rv} (${store.oldestWatchable})`,
            ).toStatus(),
          })}\n`,
        );
        return;
      }
      replay = since;
    }

    res.writeHead(200, {
      'content-type': JSON_TYPE,
      'transfer-encoding': 'chunked',
      'cache-control': 'no-cache',
    });
    res.flushHeaders();
    const stream: WatchStream = {
      res,
      paused: this.#stalled,
      pending: [],
      end: () => {
        if (!res.destroyed && !res.writableEnded) {
          if (bookmarks) write(bookmark(String(store.resourceVersion)));
          res.end();
        }
      },
    };
    const write = (event: unknown): void => {
      const line = `${JSON.stringify(event)}\n`;
      if (stream.paused) stream.pending.push(line);
      else res.write(line);
    };
    const bookmark = (rv: string, annotations?: Record<string, string>) => ({
      type: 'BOOKMARK',
      object: asServed(
        {
          apiVersion: type.group ? `${type.group}/${version}` : version,
          kind: type.kind,
          metadata: { resourceVersion: rv, ...(annotations ? { annotations } : {}) },
        },
        media,
      ),
    });
    const served = (object: KubeObject) => asServed(withVersion(object, type, version), media);
    const emit = (event: StoredEvent): void => {
      const now = inScope(event.object);
      const before = event.type !== 'ADDED' && inScope(event.previous);
      let typeOut: string | undefined;
      if (event.type === 'ADDED') typeOut = now ? 'ADDED' : undefined;
      else if (event.type === 'DELETED') typeOut = before || now ? 'DELETED' : undefined;
      else if (now && before) typeOut = 'MODIFIED';
      else if (now) typeOut = 'ADDED';
      else if (before) typeOut = 'DELETED';
      if (typeOut) write({ type: typeOut, object: served(event.object) });
    };

    for (const object of initial) write({ type: 'ADDED', object: served(object) });
    if (sendInitial)
      write(bookmark(String(store.resourceVersion), { 'k8s.io/initial-events-end': 'true' }));
    for (const event of replay) emit(event);

    const unsubscribe = store.subscribe({ typeKey, deliver: emit, close: () => finish() });
    const ticker = bookmarks
      ? setInterval(
          () => write(bookmark(String(store.resourceVersion))),
          this.#options.bookmarkIntervalMs,
        )
      : undefined;
    const timer = setTimeout(() => finish(), timeoutSeconds * 1000);
    this.#watches.add(stream);
    const finish = (): void => {
      clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      unsubscribe();
      this.#watches.delete(stream);
      stream.end();
    };
    res.once('close', () => {
      clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      unsubscribe();
      this.#watches.delete(stream);
    });
  }

  // ---- CRDs ------------------------------------------------------------------------------
  #installCrd(crd: KubeObject): void {
    const spec = crd.spec as {
      group: string;
      names: {
        plural: string;
        singular?: string;
        kind: string;
        listKind?: string;
        shortNames?: string[];
      };
      scope: string;
      versions: {
        name: string;
        served: boolean;
        storage: boolean;
        schema?: { openAPIV3Schema?: JsonSchema };
        subresources?: { status?: object };
      }[];
    };
    const served = spec.versions.filter((v) => v.served);
    const storage = served.find((v) => v.storage) ?? served[0];
    const ordered = storage ? [storage, ...served.filter((v) => v !== storage)] : served;
    this.store.addType({
      group: spec.group,
      versions: ordered.map((v) => v.name),
      plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      shortNames: spec.names.shortNames ?? [],
      namespaced: spec.scope === 'Namespaced',
      statusSubresource: ordered.some((v) => v.subresources?.status !== undefined),
      schemas: new Map(ordered.map((v) => [v.name, v.schema?.openAPIV3Schema])),
      builtin: false,
    });
    const status = {
      acceptedNames: { ...spec.names },
      storedVersions: storage ? [storage.name] : [],
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          reason: 'NoConflicts',
          message: 'no conflicts found',
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
        {
          type: 'Established',
          status: 'True',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      ],
    };
    const crdType = this.store.typeOf('apiextensions.k8s.io', 'customresourcedefinitions');
    const current = this.store.get(crdType, undefined, crd.metadata.name ?? '');
    const existing = current.status as
      | { conditions?: { type: string; status: string }[] }
      | undefined;
    if (existing?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    this.store.update(
      crdType,
      undefined,
      crd.metadata.name ?? '',
      { ...current, status } as KubeObject,
      {
        subresource: 'status',
      },
    );
  }

  #uninstallCrd(crd: KubeObject): void {
    const spec = crd.spec as { group: string; names: { plural: string } };
    this.store.removeType(spec.group, spec.names.plural);
  }

  // ---- discovery and OpenAPI -------------------------------------------------------------
  #groups(): Map<string, ResourceType[]> {
    const groups = new Map<string, ResourceType[]>();
    for (const type of this.store.types.values()) {
      if (type.group === '') continue;
      groups.set(type.group, [...(groups.get(type.group) ?? []), type]);
    }
    return groups;
  }

  #discovery(path: string): unknown {
    if (path === '/version') {
      return {
        major: '1',
        minor: '32',
        gitVersion: 'v1.32.0-vmcp-fake',
        gitCommit: 'fake',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'none',
        compiler: 'node',
        platform: `${process.platform}/${process.arch}`,
      };
    }
    if (path === '/api') {
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [
          { clientCIDR: '0.0.0.0/0', serverAddress: this.#options.address() },
        ],
      };
    }
    if (path === '/api/v1') return this.#resourceList('', 'v1');
    if (path === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...this.#groups()].map(([name, types]) => groupInfo(name, types)),
      };
    }
    const match = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (match) {
      const [, group = '', version] = match;
      const types = this.#groups().get(group);
      if (!types) return undefined;
      if (version === undefined)
        return { kind: 'APIGroup', apiVersion: 'v1', ...groupInfo(group, types) };
      if (!types.some((t) => t.versions.includes(version))) return undefined;
      return this.#resourceList(group, version);
    }
    return undefined;
  }

  #resourceList(group: string, version: string): unknown {
    const resources: unknown[] = [];
    for (const type of this.store.types.values()) {
      if (type.group !== group || !type.versions.includes(version)) continue;
      resources.push({
        name: type.plural,
        singularName: type.singular,
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
        storageVersionHash: Buffer.from(`${group}/${type.plural}`).toString('base64').slice(0, 11),
      });
      if (type.statusSubresource) {
        resources.push({
          name: `${type.plural}/status`,
          singularName: '',
          namespaced: type.namespaced,
          kind: type.kind,
          verbs: ['get', 'patch', 'update'],
        });
      }
    }
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    };
  }

  /** OpenAPI v3 (and a minimal v2) built from the CRD schemas, enough for kubectl. */
  #openapi(path: string): unknown {
    const groupVersions = new Map<string, ResourceType[]>();
    for (const type of this.store.types.values()) {
      for (const version of type.versions) {
        const gv = type.group ? `apis/${type.group}/${version}` : `api/${version}`;
        groupVersions.set(gv, [...(groupVersions.get(gv) ?? []), type]);
      }
    }
    if (path === '/openapi/v3') {
      return {
        paths: Object.fromEntries(
          [...groupVersions.keys()].map((gv) => [
            gv,
            { serverRelativeURL: `/openapi/v3/${gv}?hash=${this.store.resourceVersion}` },
          ]),
        ),
      };
    }
    if (path === '/openapi/v2') {
      return {
        swagger: '2.0',
        info: { title: 'vmcp-fake-apiserver', version: 'v1.32.0' },
        paths: {},
        definitions: {},
      };
    }
    const gv = path.replace(/^\/openapi\/v3\//, '');
    const types = groupVersions.get(gv);
    if (!types)
      throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    const version = gv.split('/').at(-1) ?? 'v1';
    const schemas: Record<string, unknown> = {};
    const paths: Record<string, unknown> = {};
    const param = (name: string) => ({
      name,
      in: 'query',
      schema: { type: 'string', uniqueItems: true },
    });
    for (const type of types) {
      const id = `${type.group ? type.group.split('.').reverse().join('.') : 'io.k8s.api.core'}.${version}.${type.kind}`;
      const schema = type.schemas.get(version) ?? {
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
      };
      schemas[id] = {
        ...schema,
        'x-kubernetes-group-version-kind': [{ group: type.group, version, kind: type.kind }],
      };
      const base = `/${gv}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
      const ref = {
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${id}` } } },
      };
      const operations = {
        'x-kubernetes-group-version-kind': { group: type.group, version, kind: type.kind },
        parameters: [param('dryRun'), param('fieldManager'), param('fieldValidation')],
        requestBody: ref,
        responses: { '200': { description: 'OK', ...ref } },
      };
      paths[base] = { get: { responses: { '200': { description: 'OK' } } }, post: operations };
      paths[`${base}/{name}`] = {
        get: { responses: { '200': { description: 'OK', ...ref } } },
        put: operations,
        patch: operations,
        delete: { responses: { '200': { description: 'OK' } } },
      };
    }
    return {
      openapi: '3.0.0',
      info: { title: 'vmcp-fake-apiserver', version: 'v1.32.0' },
      paths,
      components: { schemas },
    };
  }

  #route(path: string): {
    type: ResourceType;
    namespace: string | undefined;
    name: string | undefined;
    subresource: string | undefined;
    version: string;
  } {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1]) {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts[1] && parts[2]) {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    } else {
      throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    }
    let namespace: string | undefined;
    // `namespaces/{ns}/{plural}...` is namespaced, unless it is the namespace object itself.
    const namespaceSubresource =
      group === '' &&
      rest[0] === 'namespaces' &&
      rest.length === 3 &&
      (rest[2] === 'status' || rest[2] === 'finalize');
    if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural = '', name, subresource] = rest;
    const type = this.store.findType(group, version, plural);
    if (!type || (namespace !== undefined && !type.namespaced)) {
      throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (rest.length > 3)
      throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    return { type, namespace, name, subresource, version };
  }
}

function groupInfo(name: string, types: ResourceType[]) {
  const versions = [...new Set(types.flatMap((t) => t.versions))];
  const preferred = types[0]?.versions[0] ?? versions[0] ?? 'v1';
  return {
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${preferred}`, version: preferred },
  };
}

function combine(a: Selector, b: Selector): Selector {
  return (o) => a(o) && b(o);
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

/** The object as served in the requested version (no conversion: schemas share fields). */
function withVersion(object: KubeObject, type: ResourceType, version: string): KubeObject {
  const apiVersion = type.group ? `${type.group}/${version}` : version;
  return object.apiVersion === apiVersion ? object : { ...object, apiVersion };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage, optional: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 3 * 1024 * 1024)
      throw new ApiFailure(413, 'RequestEntityTooLarge', 'the request body is larger than 3 MiB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!optional && text === '') throw ApiFailure.badRequest('the request needs a body');
  return text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // kubectl and most clients send JSON; YAML bodies are not accepted by this server.
    throw ApiFailure.badRequest('the request body is not valid JSON');
  }
}

function parseObject(text: string): KubeObject {
  const value = parseJson(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw ApiFailure.badRequest('the request body is not a Kubernetes object');
  }
  return value as KubeObject;
}
