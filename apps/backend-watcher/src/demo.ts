import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeObject, systemClock } from '@vmcp/kube-runtime';
import { type Backend, createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import type { DemoConfig } from './config.js';
import { createLogger } from './logger.js';
import { applyManifests, readManifests } from './manifests.js';
import { restartSafeVersion, startSidecar } from './sidecar.js';

/** The examples shipped with the app. */
export const BUNDLED_EXAMPLES = fileURLToPath(new URL('../examples', import.meta.url));

/** A local API server for the demo. */
export interface LocalCluster {
  kind: string;
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

const NAMESPACE = 'default';
const GROUP = 'engineering';

/**
 * The packages that only `demo` loads. They are optional peer dependencies, not dependencies: a
 * production install (`pnpm deploy --prod`, the image) leaves them out, so the sidecar that
 * people deploy carries no Kubernetes API server implementation.
 */
const DEMO_PACKAGES = ['@vmcp/fake-apiserver', '@vmcp/toolhive-crds'] as const;

/** `demo` was run where its optional packages are not installed. */
class DemoUnavailableError extends Error {
  constructor(missing: string) {
    super(
      `demo needs ${DEMO_PACKAGES.join(' and ')}, optional peer dependencies that production installs leave out (${missing} is missing): install them beside @vmcp/backend-watcher (npm install ${DEMO_PACKAGES.join(' ')}), or run \`pnpm demo\` in the vmcp-k8s repository`,
    );
    this.name = 'DemoUnavailableError';
  }
}

/** The package of {@link DEMO_PACKAGES} that an import failure says is missing, if any. */
function missingDemoPackage(error: unknown): string | undefined {
  if ((error as { code?: unknown })?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const message = String((error as Error).message);
  return DEMO_PACKAGES.find((name) => message.includes(`'${name}'`));
}

async function importDemoPackages() {
  try {
    return await Promise.all([import('@vmcp/fake-apiserver'), import('@vmcp/toolhive-crds')]);
  } catch (error) {
    const missing = missingDemoPackage(error);
    throw missing === undefined ? error : new DemoUnavailableError(missing);
  }
}

/**
 * Starts the embedded API server: the project's in-process one (`@vmcp/fake-apiserver`, HTTPS on
 * loopback) with the ToolHive CRDs. It needs nothing installed and starts in milliseconds.
 */
async function startLocalCluster(): Promise<LocalCluster> {
  const [{ startFakeApiServer }, { toolhiveCrdPaths }] = await importDemoPackages();
  const server = await startFakeApiServer({ crds: toolhiveCrdPaths });
  return {
    kind: `in-process fake Kubernetes API server at ${server.url} (@vmcp/fake-apiserver)`,
    kubeConfig: server.kubeConfig,
    kubeconfigPath: server.kubeconfigPath,
    stop: () => server.close(),
  };
}

/** Writes one line of the demo's output. */
type Out = (line?: string) => void;

/**
 * Lines on a stream that stop, instead of failing, once nobody reads them. After Ctrl-C on
 * `demo | tee demo.log` the reader of the pipe is gone and every write fails with EPIPE; with no
 * listener, that stream error would end the process before it removed what it started.
 */
function pipeSafeOutput(stream: NodeJS.WritableStream = process.stdout): {
  out: Out;
  close(): void;
} {
  let gone = false;
  // Any write error means the output is gone; what is left to do (stopping, cleaning up) is not.
  const onError = (): void => {
    gone = true;
  };
  stream.on('error', onError);
  return {
    out: (line = '') => {
      if (!gone) stream.write(`${line}\n`);
    },
    close: () => {
      stream.off('error', onError);
    },
  };
}

/**
 * `vmcp-backend-watcher demo`: starts a local API server with the CRDs, applies the examples,
 * runs the sidecar against it and prints the registry whenever it changes, until Ctrl-C (or, with
 * `--once`, until the first complete registry is printed). Whenever it stops, and whether or not
 * anyone still reads its output, it removes everything it started.
 */
export async function runDemo(config: DemoConfig): Promise<number> {
  const examples = config.examples ?? BUNDLED_EXAMPLES;
  if (!existsSync(examples)) throw new Error(`examples directory ${examples} does not exist`);
  const objects = readManifests(examples);
  const output = pipeSafeOutput();
  // From here on, Ctrl-C stops the demo through its cleanup, whatever step it is at.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    output.out('Starting a local Kubernetes API server...');
    const cluster = await startLocalCluster();
    try {
      await applyExamples(cluster, objects);
      output.out(`Applied ${objects.length} example objects from ${examples}`);
      if (!stop.signal.aborted) await serveDemo(cluster, config, stop.signal, output.out);
    } finally {
      await cluster.stop();
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    output.close();
  }
}

async function applyExamples(cluster: LocalCluster, objects: KubeObject[]): Promise<void> {
  const client = new KubeClient(cluster.kubeConfig);
  try {
    await applyManifests(client, NAMESPACE, objects);
  } finally {
    await client.close();
  }
}

/** Runs the sidecar against the cluster and prints its registry until `signal` (or once). */
async function serveDemo(
  cluster: LocalCluster,
  config: DemoConfig,
  signal: AbortSignal,
  out: Out,
): Promise<void> {
  // The sidecar's own kind of registry, made here so that the demo knows where it started.
  const startVersion = restartSafeVersion();
  const sidecar = await startSidecar({
    registry: createDynamicRegistry([], { initialVersion: startVersion }),
    kubeConfig: cluster.kubeConfig,
    namespace: NAMESPACE,
    groupRef: GROUP,
    listen: `${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${config.listen.port}`,
    logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
  });
  try {
    out(`API server:  ${cluster.kind}`);
    out(`kubeconfig:  ${cluster.kubeconfigPath}`);
    out(`HTTP API:    ${sidecar.url}/v1/backends  (also /v1/events, /readyz, /metrics)`);
    out(`Try:         kubectl --kubeconfig ${cluster.kubeconfigPath} get mcpservers`);
    out(`             curl -s ${sidecar.url}/v1/backends`);
    out('Press Ctrl-C to stop and clean up.');
    if (!(await sidecar.watcher.waitForRegistrySync({ timeoutMs: 60_000, signal }))) {
      if (!signal.aborted) throw new Error('the watcher did not sync within 60 s');
      return;
    }
    printRegistry(sidecar.registry, startVersion, out);
    if (!config.once) await follow(sidecar.registry, startVersion, signal, out);
  } finally {
    out('Stopping...');
    await sidecar.close();
  }
}

async function follow(
  registry: DynamicRegistry,
  startVersion: number,
  signal: AbortSignal,
  out: Out,
): Promise<void> {
  for await (const _change of registry.changes({ signal })) {
    // Coalesce a burst of changes into one print of the newest state.
    await new Promise((resolve) => systemClock.setTimer(100, () => resolve(undefined)));
    printRegistry(registry, startVersion, out);
  }
}

function printRegistry(registry: DynamicRegistry, startVersion: number, out: Out): void {
  const { version, backends } = registry.snapshot();
  out();
  out(
    `registry version ${version} (${version - startVersion} changes since start): ${backends.length} backend(s)`,
  );
  const rows = backends.map((b: Backend) => [
    b.id,
    b.type ?? 'workload',
    b.transportType,
    b.authConfig?.type ?? 'none',
    b.baseUrl,
  ]);
  const header = ['ID', 'TYPE', 'TRANSPORT', 'AUTH', 'URL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    out(`  ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd());
  }
}
