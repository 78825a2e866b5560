import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KubeClient, type KubeObject, ResourceClient, type ResourceRef } from '@vmcp/kube-runtime';
import { CliProcess, eventually, PROCESS_READY_TIMEOUT_MS } from '@vmcp/test-support';

/** The built sidecar, from its package (a devDependency: `pnpm test` builds it first). */
const SIDECAR_CLI = join(
  dirname(createRequire(import.meta.url).resolve('@vmcp/backend-watcher/package.json')),
  'dist',
  'cli.js',
);

/**
 * How a rotated Secret reaches the sidecar: it reads Secrets when it reconciles, never through a
 * watch, and re-reads every Secret a served backend uses once per `--secret-refresh-period`
 * (default 60 s; 1 s, its minimum, keeps the rotation test short).
 */
export const SECRET_REFRESH_FLAGS = ['--secret-refresh-period', '1s'] as const;

export const GROUP = 'engineering';

const resources =
  (group: string, version: string) =>
  (plural: string, kind: string): ResourceRef => ({ group, version, plural, kind });
const toolhive = resources('toolhive.stacklok.dev', 'v1beta1');
const core = resources('', 'v1');
const ENTRY = toolhive('mcpserverentries', 'MCPServerEntry');
const AUTH_CONFIG = toolhive('mcpexternalauthconfigs', 'MCPExternalAuthConfig');
const SECRET = core('secrets', 'Secret');
const CONFIG_MAP = core('configmaps', 'ConfigMap');
const NAMESPACE_RESOURCE = core('namespaces', 'Namespace');

/** An API server to declare backends on: the fake one or envtest's. */
export interface ApiServer {
  readonly kubeConfig: ConstructorParameters<typeof KubeClient>[0];
  readonly kubeconfigPath: string;
}

/** What an MCPServerEntry points at and how it is reached. */
export interface EntrySpec {
  readonly url: string;
  readonly transport?: 'streamable-http' | 'sse';
  readonly authConfig?: string;
  readonly caConfigMap?: string;
}

/**
 * MCPServerEntries, auth configs, Secrets and CA ConfigMaps of one group on an API server, and
 * the built sidecar watching them: the cluster side of the gateway's end-to-end tests.
 */
export class BackendCluster implements AsyncDisposable {
  readonly #kube: KubeClient;
  readonly #processes: CliProcess[] = [];
  readonly #dir = mkdtempSync(join(tmpdir(), 'vmcp-gateway-e2e-'));
  /** The sidecar's API token file: with it the gateway receives secret values. */
  readonly tokenFile = join(this.#dir, 'token');

  constructor(
    readonly api: ApiServer,
    readonly namespace = 'default',
  ) {
    this.#kube = new KubeClient(api.kubeConfig);
    writeFileSync(this.tokenFile, 'gateway-e2e-sidecar-token\n');
  }

  /** Creates the namespace (a real API server has only `default` and the system ones). */
  async createNamespace(): Promise<void> {
    await new ResourceClient(this.#kube, NAMESPACE_RESOURCE).create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: this.namespace },
    });
  }

  /** Starts the built sidecar on a free port; resolves with its URL once `/readyz` is 200. */
  async startSidecar(): Promise<{ url: string; cli: CliProcess }> {
    const cli = new CliProcess(
      [
        '--group',
        GROUP,
        '--namespace',
        this.namespace,
        '--kubeconfig',
        this.api.kubeconfigPath,
        '--listen',
        '127.0.0.1:0',
        '--api-token-file',
        this.tokenFile,
        '--grace-period',
        '1s',
        '--heartbeat-interval',
        '1s',
        ...SECRET_REFRESH_FLAGS,
      ],
      {},
      { cli: SIDECAR_CLI },
    );
    this.#processes.push(cli);
    const url = (await cli.waitForLog('serving')).url as string;
    await eventually(async () => {
      if ((await fetch(`${url}/readyz`)).status !== 200) throw new Error('sidecar not ready');
    }, PROCESS_READY_TIMEOUT_MS);
    return { url, cli };
  }

  /** Creates or replaces the entry `name`, and marks it Valid as the operator would. */
  async putEntry(name: string, spec: EntrySpec): Promise<void> {
    await this.#put(ENTRY, {
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPServerEntry',
      metadata: { name },
      spec: {
        remoteUrl: spec.url,
        transport: spec.transport ?? 'streamable-http',
        groupRef: { name: GROUP },
        ...(spec.authConfig ? { externalAuthConfigRef: { name: spec.authConfig } } : {}),
        ...(spec.caConfigMap
          ? { caBundleRef: { configMapRef: { name: spec.caConfigMap, key: 'ca.crt' } } }
          : {}),
      },
    });
    await this.#client(ENTRY).patchStatus(name, { status: { phase: 'Valid' } });
  }

  async deleteEntry(name: string): Promise<void> {
    await this.#client(ENTRY).delete(name);
  }

  /** A `headerInjection` auth config whose value is `key` of the Secret `secret`. */
  async putHeaderAuth(
    name: string,
    headerName: string,
    secret: string,
    key: string,
  ): Promise<void> {
    await this.#put(AUTH_CONFIG, {
      apiVersion: 'toolhive.stacklok.dev/v1beta1',
      kind: 'MCPExternalAuthConfig',
      metadata: { name },
      spec: {
        type: 'headerInjection',
        headerInjection: { headerName, valueSecretRef: { name: secret, key } },
      },
    });
  }

  async putSecret(name: string, data: Record<string, string>): Promise<void> {
    await this.#put(SECRET, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name },
      type: 'Opaque',
      stringData: data,
    });
  }

  async putConfigMap(name: string, data: Record<string, string>): Promise<void> {
    await this.#put(CONFIG_MAP, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
  }

  /** Everything the sidecars printed (their logs), for the secret-leak search. */
  sidecarOutput(): string {
    return this.#processes.map((cli) => cli.stdout + cli.stderr).join('');
  }

  async close(): Promise<void> {
    for (const cli of this.#processes) cli.kill('SIGTERM');
    await Promise.all(this.#processes.map((cli) => cli.exited));
    await this.#kube.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #client(ref: ResourceRef): ResourceClient {
    return new ResourceClient(this.#kube, ref, this.namespace);
  }

  /** Creates the object, or replaces it (with its current resourceVersion) when it exists. */
  async #put(ref: ResourceRef, object: KubeObject): Promise<void> {
    const client = this.#client(ref);
    const name = object.metadata?.name ?? '';
    const current = await client.get(name).catch(() => undefined);
    if (current === undefined) await client.create(object);
    else
      await client.replace({
        ...object,
        metadata: { ...object.metadata, resourceVersion: current.metadata?.resourceVersion },
      });
  }
}
