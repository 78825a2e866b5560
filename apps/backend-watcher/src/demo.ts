import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '@vmcp/kube-runtime';
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
export const DEMO_PACKAGES = ['@vmcp/fake-apiserver', '@vmcp/toolhive-crds'] as const;

/** `demo` was run where its optional packages are not installed. */
export class DemoUnavailableError extends Error {
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

/**
 * `vmcp-backend-watcher demo`: starts a local API server with the CRDs, applies the examples,
 * runs the sidecar against it and prints the registry whenever it changes, until Ctrl-C (or, with
 * `--once`, until the first complete registry is printed).
 */
export async function runDemo(config: DemoConfig): Promise<number> {
  const out = (line = ''): void => {
    process.stdout.write(`${line}\n`);
  };
  const examples = config.examples ?? BUNDLED_EXAMPLES;
  if (!existsSync(examples)) throw new Error(`examples directory ${examples} does not exist`);
  const objects = readManifests(examples);

  out('Starting a local Kubernetes API server...');
  const cluster = await startLocalCluster();
  let stopped = false;
  const cleanUp = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await cluster.stop();
  };
  try {
    const client = new KubeClient(cluster.kubeConfig);
    try {
      await applyManifests(client, NAMESPACE, objects);
    } finally {
      await client.close();
    }
    out(`Applied ${objects.length} example objects from ${examples}`);
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
    out(`API server:  ${cluster.kind}`);
    out(`kubeconfig:  ${cluster.kubeconfigPath}`);
    out(`HTTP API:    ${sidecar.url}/v1/backends  (also /v1/events, /readyz, /metrics)`);
    out(`Try:         kubectl --kubeconfig ${cluster.kubeconfigPath} get mcpservers`);
    out(`             curl -s ${sidecar.url}/v1/backends`);
    out('Press Ctrl-C to stop and clean up.');

    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      if (
        !(await sidecar.watcher.waitForRegistrySync({ timeoutMs: 60_000, signal: stop.signal }))
      ) {
        if (!stop.signal.aborted) throw new Error('the watcher did not sync within 60 s');
      } else {
        printRegistry(sidecar.registry, startVersion, out);
        if (!config.once) await follow(sidecar.registry, startVersion, stop.signal, out);
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      out('Stopping...');
      await sidecar.close();
    }
    return 0;
  } finally {
    await cleanUp();
  }
}

async function follow(
  registry: DynamicRegistry,
  startVersion: number,
  signal: AbortSignal,
  out: (line?: string) => void,
): Promise<void> {
  for await (const _change of registry.changes({ signal })) {
    // Coalesce a burst of changes into one print of the newest state.
    await new Promise((resolve) => setTimeout(resolve, 100));
    printRegistry(registry, startVersion, out);
  }
}

function printRegistry(
  registry: DynamicRegistry,
  startVersion: number,
  out: (line?: string) => void,
): void {
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
