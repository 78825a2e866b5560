/**
 * The chaos run's seeded generator of cluster mutations, over a small pool of names so that names
 * collide: creates of any workload kind, spec, status and group changes, deletes, delete and
 * recreate as another kind, and changes of auth configs, Secrets and CA ConfigMaps.
 */
import { ApiError, type KubeObject, type ResourceClient } from '@vmcp/kube-runtime';
import { API, type Kind, WORKLOADS, type WorkloadKind } from './resources.js';

/** What the generator counts of its operations. */
export interface OperationCounts {
  operations: number;
  /** Answered with an error (404, 409, 422, a 5xx of a fault...). */
  rejected: number;
  /** Not answered: the API server was down or restarting. */
  unreachable: number;
}

const NAMES = Array.from({ length: 10 }, (_, i) => `w${i}`);
const AUTH_NAMES = ['auth-a', 'auth-b', 'auth-c'];
const SECRET_NAMES = ['secret-a', 'secret-b'];
const CA_NAMES = ['ca-a', 'ca-b'];

export class MutationGenerator {
  readonly #clients: Record<Kind, ResourceClient>;
  readonly #random: () => number;
  readonly #groups: readonly string[];
  /**
   * Which workloads exist, as learnt from the API server's answers, so that most operations target
   * something that exists (or, to create, something that does not): picked blindly, more than half
   * were refused. A fifth still go anywhere, which keeps 404s and 409s in the mix.
   */
  readonly #known: Record<WorkloadKind, Set<string>> = {
    MCPServer: new Set(),
    MCPRemoteProxy: new Set(),
    MCPServerEntry: new Set(),
  };
  readonly #mutations: (() => Promise<void>)[] = [
    () => this.#createWithStatus(),
    () => this.#changeStatus(),
    () => this.#moveGroup(),
    () => this.#changeSpec(),
    () => this.#delete(),
    () => this.#recreate(),
    () => this.#writeAuthConfig(),
    () => this.#clients.MCPExternalAuthConfig.delete(this.#pick(AUTH_NAMES)),
    () => this.#writeSecret(),
    () => this.#writeConfigMap(),
  ];

  /** `groups`: the watched groups; workloads also go to a group nobody watches. */
  constructor(
    clients: Record<Kind, ResourceClient>,
    random: () => number,
    groups: readonly string[],
  ) {
    this.#clients = clients;
    this.#random = random;
    this.#groups = [...groups, 'nobody'];
  }

  /** One random mutation; the API server's answer is counted, never thrown. */
  async mutate(counts: OperationCounts): Promise<void> {
    try {
      await this.#pick(this.#mutations)();
      counts.operations++;
    } catch (error) {
      // 404, 409, 422 and friends: random operations are often impossible; the cluster decides.
      if (error instanceof ApiError) counts.rejected++;
      else counts.unreachable++;
    }
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)] as T;
  }

  #existingName(kind: WorkloadKind): string {
    const present = [...this.#known[kind]];
    return present.length > 0 && this.#random() < 0.8 ? this.#pick(present) : this.#pick(NAMES);
  }

  #freeName(kind: WorkloadKind): string {
    const free = NAMES.filter((name) => !this.#known[kind].has(name));
    return free.length > 0 && this.#random() < 0.8 ? this.#pick(free) : this.#pick(NAMES);
  }

  /** Runs a call about one workload and learns from its answer whether the workload exists. */
  async #learn<T>(
    kind: WorkloadKind,
    name: string,
    call: () => Promise<T>,
    exists: boolean | undefined,
  ): Promise<T> {
    try {
      const result = await call();
      if (exists === true) this.#known[kind].add(name);
      if (exists === false) this.#known[kind].delete(name);
      return result;
    } catch (error) {
      const code = error instanceof ApiError ? error.code : undefined;
      if (code === 404) this.#known[kind].delete(name);
      if (code === 409) this.#known[kind].add(name);
      throw error;
    }
  }

  #workload(kind: WorkloadKind, name: string): KubeObject {
    const spec: Record<string, unknown> = { groupRef: { name: this.#pick(this.#groups) } };
    if (this.#random() < 0.5) spec.externalAuthConfigRef = { name: this.#pick(AUTH_NAMES) };
    if (kind === 'MCPServer') {
      spec.image = 'example/mcp:1';
      spec.transport = this.#pick(['stdio', 'sse', 'streamable-http']);
      if (this.#random() < 0.5) spec.proxyMode = this.#pick(['sse', 'streamable-http']);
    } else if (kind === 'MCPRemoteProxy') {
      spec.remoteUrl = `https://remote-${name}.example.com/mcp`;
      spec.transport = this.#pick(['sse', 'streamable-http']);
    } else {
      spec.remoteUrl = this.#pick([
        `https://entry-${name}.example.com/mcp`,
        `http://entry-${name}:8080`,
      ]);
      spec.transport = this.#pick(['sse', 'streamable-http']);
      if (this.#random() < 0.5)
        spec.caBundleRef = {
          configMapRef: {
            name: this.#pick(CA_NAMES),
            ...(this.#random() < 0.5 ? { key: 'ca.crt' } : {}),
          },
        };
    }
    const annotations =
      this.#random() < 0.3
        ? { 'example.com/rev': String(Math.floor(this.#random() * 5)) }
        : undefined;
    return {
      apiVersion: API,
      kind,
      metadata: { name, ...(annotations ? { annotations } : {}) },
      spec,
    } as KubeObject;
  }

  #status(kind: WorkloadKind, name: string): Record<string, string> {
    return kind === 'MCPServerEntry'
      ? { phase: this.#pick(['Valid', 'Valid', 'Failed', 'Pending']) }
      : {
          phase: this.#pick(['Ready', 'Ready', 'Pending', 'Failed']),
          url: this.#pick([
            `http://${name}.svc:8080`,
            `http://${name}-v2.svc:8080`,
            '',
            'not a url',
          ]),
        };
  }

  #patchStatus(kind: WorkloadKind, name: string): Promise<unknown> {
    return this.#learn(
      kind,
      name,
      () => this.#clients[kind].patchStatus(name, { status: this.#status(kind, name) }),
      undefined,
    );
  }

  async #createWithStatus(kind = this.#pick(WORKLOADS), name = this.#freeName(kind)) {
    await this.#learn(
      kind,
      name,
      () => this.#clients[kind].create(this.#workload(kind, name)),
      true,
    );
    await this.#patchStatus(kind, name);
  }

  async #changeStatus() {
    const kind = this.#pick(WORKLOADS);
    await this.#patchStatus(kind, this.#existingName(kind));
  }

  async #moveGroup() {
    const kind = this.#pick(WORKLOADS);
    const name = this.#existingName(kind);
    const patch = { spec: { groupRef: { name: this.#pick(this.#groups) } } };
    await this.#learn(kind, name, () => this.#clients[kind].patch(name, patch), undefined);
  }

  async #changeSpec() {
    const kind = this.#pick(WORKLOADS);
    const name = this.#existingName(kind);
    const fresh = this.#workload(kind, 'x');
    const patch = {
      spec: { ...(fresh.spec as object), groupRef: undefined },
      metadata: { annotations: { 'example.com/rev': String(Math.floor(this.#random() * 5)) } },
    };
    await this.#learn(kind, name, () => this.#clients[kind].patch(name, patch), undefined);
  }

  async #delete(kind = this.#pick(WORKLOADS), name = this.#existingName(kind)) {
    await this.#learn(kind, name, () => this.#clients[kind].delete(name), false);
  }

  /** Delete and recreate under the same name (a new UID), possibly as another kind. */
  async #recreate() {
    const kind = this.#pick(WORKLOADS);
    const name = this.#existingName(kind);
    await this.#delete(kind, name).catch(() => undefined);
    await this.#createWithStatus(this.#pick(WORKLOADS), name);
  }

  async #writeAuthConfig() {
    const name = this.#pick(AUTH_NAMES);
    const spec =
      this.#random() < 0.3
        ? { type: 'unauthenticated' }
        : {
            type: 'headerInjection',
            headerInjection: {
              headerName: this.#pick(['X-Key', 'Authorization']),
              valueSecretRef: { name: this.#pick(SECRET_NAMES), key: this.#pick(['k', 'other']) },
            },
          };
    const configs = this.#clients.MCPExternalAuthConfig;
    const existing = await configs.get(name).catch(() => undefined);
    if (existing) await configs.replace({ ...existing, spec } as KubeObject);
    else
      await configs.create({
        apiVersion: API,
        kind: 'MCPExternalAuthConfig',
        metadata: { name },
        spec,
      } as KubeObject);
  }

  async #writeSecret() {
    const name = this.#pick(SECRET_NAMES);
    const value = `value-${Math.floor(this.#random() * 1000)}`;
    await this.#writeData('Secret', name, { k: Buffer.from(value).toString('base64') });
  }

  async #writeConfigMap() {
    const name = this.#pick(CA_NAMES);
    const pem = `-----BEGIN CERTIFICATE-----\n${Math.floor(this.#random() * 1000)}\n-----END CERTIFICATE-----\n`;
    await this.#writeData('ConfigMap', name, { 'ca.crt': pem });
  }

  /** Creates the object, replaces its data, or (three times in ten) deletes it. */
  async #writeData(kind: 'Secret' | 'ConfigMap', name: string, data: Record<string, string>) {
    const client = this.#clients[kind];
    const existing = await client.get(name).catch(() => undefined);
    if (existing && this.#random() < 0.3) await client.delete(name);
    else if (existing) await client.replace({ ...existing, data } as KubeObject);
    else await client.create({ apiVersion: 'v1', kind, metadata: { name }, data } as KubeObject);
  }
}
