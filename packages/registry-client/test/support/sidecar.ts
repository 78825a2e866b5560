import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import { KubeClient, type KubeObject, ResourceClient, type ResourceRef } from '@vmcp/kube-runtime';
import type { Backend } from '@vmcp/registry';
import { CliProcess, eventually, PROCESS_READY_TIMEOUT_MS } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';

export { eventually };

/** The sidecar's built binary, from its package (a devDependency: `pnpm test` builds it first). */
const SIDECAR_CLI = join(
  dirname(createRequire(import.meta.url).resolve('@vmcp/backend-watcher/package.json')),
  'dist',
  'cli.js',
);

export const TOKEN = 'registry-client-e2e-token';
export const GROUP = 'engineering';
const NAMESPACE = 'default';
const MCP_SERVER: ResourceRef = {
  group: 'toolhive.stacklok.dev',
  version: 'v1beta1',
  plural: 'mcpservers',
  kind: 'MCPServer',
};

export interface BackendList {
  version: number;
  backends: Backend[];
}

/** A running `vmcp-backend-watcher` binary. */
export class SidecarProcess {
  constructor(
    readonly cli: CliProcess,
    readonly url: string,
  ) {}

  /** `GET /v1/backends` with the token: the sidecar's registry, secret values included. */
  async list(): Promise<BackendList> {
    const response = await fetch(`${this.url}/v1/backends`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (response.status !== 200) throw new Error(`GET /v1/backends: ${response.status}`);
    return (await response.json()) as BackendList;
  }

  get pid(): number {
    return this.cli.child.pid ?? 0;
  }

  async kill(): Promise<void> {
    this.cli.kill('SIGKILL');
    await this.cli.exited;
  }
}

/**
 * The fake API server with the ToolHive CRDs, MCPServers of one group that tests create, change
 * and delete, and the built sidecar binary watching them.
 */
export class SidecarCluster implements AsyncDisposable {
  readonly #revisions = new Map<string, number>();
  readonly #processes: CliProcess[] = [];

  private constructor(
    readonly fake: FakeApiServer,
    readonly servers: ResourceClient,
    readonly kube: KubeClient,
    readonly tokenFile: string,
  ) {}

  static async start(): Promise<SidecarCluster> {
    const fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
    const kube = new KubeClient(fake.kubeConfig);
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'vmcp-registry-client-')), 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    return new SidecarCluster(
      fake,
      new ResourceClient(kube, MCP_SERVER, NAMESPACE),
      kube,
      tokenFile,
    );
  }

  /**
   * Starts the binary (on `port`, or any free one) and resolves once its `/readyz` is 200.
   * Heartbeats every 300 ms, so that a stalled stream is noticed in about a second.
   */
  async startSidecar(port = 0): Promise<SidecarProcess> {
    const args = [
      '--group',
      GROUP,
      '--namespace',
      NAMESPACE,
      '--kubeconfig',
      this.fake.kubeconfigPath,
      '--listen',
      `127.0.0.1:${port}`,
      '--api-token-file',
      this.tokenFile,
      '--grace-period',
      '1s',
      '--heartbeat-interval',
      '300ms',
    ];
    const cli = new CliProcess(args, {}, { cli: SIDECAR_CLI });
    this.#processes.push(cli);
    const url = (await cli.waitForLog('serving')).url as string;
    await eventually(async () => {
      if ((await fetch(`${url}/readyz`)).status !== 200) throw new Error('not ready');
    }, PROCESS_READY_TIMEOUT_MS);
    return new SidecarProcess(cli, url);
  }

  /** Creates the MCPServer `name`, or gives it a new revision (a new URL): one backend change. */
  async put(name: string): Promise<void> {
    const revision = (this.#revisions.get(name) ?? 0) + 1;
    this.#revisions.set(name, revision);
    if (revision === 1) {
      await this.servers.create({
        apiVersion: 'toolhive.stacklok.dev/v1beta1',
        kind: 'MCPServer',
        metadata: { name },
        spec: { image: 'example/mcp:1', transport: 'streamable-http', groupRef: { name: GROUP } },
      } as KubeObject);
    }
    await this.servers.patchStatus(name, {
      status: { phase: 'Ready', url: `http://${name}.default.svc:${8000 + revision}` },
    });
  }

  async remove(name: string): Promise<void> {
    if (!this.#revisions.has(name)) return;
    this.#revisions.delete(name);
    await this.servers.delete(name);
  }

  /** Names that exist, and the port of their current revision. */
  expected(): Map<string, number> {
    return new Map([...this.#revisions].map(([name, revision]) => [name, 8000 + revision]));
  }

  /** Resolves once the sidecar serves exactly what the cluster holds (by name and revision). */
  async sidecarHolds(sidecar: SidecarProcess, timeoutMs = 30_000): Promise<BackendList> {
    const expected = this.expected();
    return eventually(async () => {
      const list = await sidecar.list();
      const served = new Map(list.backends.map((b) => [b.id, new URL(b.baseUrl).port]));
      const wanted = new Map([...expected].map(([name, port]) => [name, String(port)]));
      if (JSON.stringify([...served].sort()) !== JSON.stringify([...wanted].sort())) {
        throw new Error(`sidecar serves ${JSON.stringify([...served])}`);
      }
      return list;
    }, timeoutMs);
  }

  async close(): Promise<void> {
    for (const cli of this.#processes) cli.kill();
    await Promise.all(this.#processes.map((cli) => cli.exited));
    await this.kube.close();
    await this.fake.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
