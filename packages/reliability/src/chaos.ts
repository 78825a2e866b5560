/**
 * A seeded, bounded chaos run: random cluster mutations interleaved with random faults, checked
 * against the independent oracle at quiesce points. Replay a run with its seed.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { type Sidecar, startSidecar } from '@vmcp/backend-watcher';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import type { Backend, RegistryChange } from '@vmcp/registry';
import { MutationGenerator } from './generator.js';
import {
  type ClusterState,
  canonicalJson,
  diffBackends,
  expectedBackends,
  type Obj,
} from './oracle.js';
import { API, KINDS, type Kind, RESOURCES } from './resources.js';

/** A fault the target can inject; resolves once it is over. */
export type Fault = { name: string; run: () => Promise<void> };

export interface ChaosOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** The groups watched, one sidecar each; workloads also go to a group nobody watches. */
  groups: readonly string[];
  faults: readonly Fault[];
  seed: number;
  /** Total chaos time, split into rounds that each end with a quiesce and a comparison. */
  seconds: number;
  rounds: number;
  /** How long a round may take to converge. */
  convergeTimeoutMs?: number;
  /** The sidecars' resync period (Secrets are not watched). Default 3 s. */
  resyncPeriodMs?: number;
  /**
   * The sidecars' read bound: short, so that a paused or stalled API server makes reconciles'
   * reads fail (transiently) within a fault. Default 1 s.
   */
  readTimeoutMs?: number;
  /** How often the sentinels are sampled. Default 100 ms. */
  sampleIntervalMs?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  operations: number;
  /** Operations the API server answered with an error (404, 409, 422, a 5xx of a fault...). */
  rejected: number;
  /** Operations that got no answer: the API server was down or restarting. */
  unreachable: number;
  faults: Record<string, number>;
  convergeMs: number[];
  /** Backends missing, stale or different at the end of a round's convergence window. */
  lostOrStale: number;
  /** Registry changes that changed nothing (a version step without a content change). */
  emptyVersionSteps: number;
  versionSteps: number;
  diffs: string[];
  /**
   * The continuous check: registry samples taken (one per sidecar per interval, through the
   * whole run, faults included), sentinel backends checked in them, and checks that found a
   * sentinel missing or different. Sentinels are backends whose objects no operation touches, so
   * nothing may change them; goal 0 violations.
   */
  samples: number;
  sentinelChecks: number;
  violations: number;
  /** The first violations, described. */
  violationDetails: string[];
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads the cluster as the oracle sees it: plain lists, no cache. */
export async function readState(
  clients: Record<Kind, ResourceClient>,
  namespace: string,
): Promise<ClusterState> {
  const lists = await Promise.all(
    KINDS.map(async (kind) => [kind, (await clients[kind].list()).items as unknown as Obj[]]),
  );
  return { namespace, ...Object.fromEntries(lists) } as ClusterState;
}

export function resourceClients(
  client: KubeClient,
  namespace: string,
): Record<Kind, ResourceClient> {
  return Object.fromEntries(
    KINDS.map((kind) => [kind, new ResourceClient(client, RESOURCES[kind], namespace)]),
  ) as Record<Kind, ResourceClient>;
}

/** Runs the chaos and returns its figures; never throws for a divergence (the report says it). */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const random = prng(options.seed);
  const client = new KubeClient(options.kubeConfig);
  const clients = resourceClients(client, options.namespace);
  const token = `chaos-token-${options.seed}`;
  const report = emptyReport(options.seed);
  const stopFeeds = new AbortController();
  const sidecars = await startSidecars(options, token);
  const feeds = sidecars.map((sidecar) => watchVersions(sidecar, stopFeeds.signal, report));
  const stopSampling = new AbortController();
  let sampling: Promise<void> = Promise.resolve();
  try {
    for (const sidecar of sidecars)
      await sidecar.watcher.waitForRegistrySync({ timeoutMs: 60_000 });
    // Sentinels: backends of each group whose objects no operation below touches. Once served as
    // the oracle says, every sample of the whole run must hold them unchanged.
    await createSentinels(clients, options.groups);
    const initial = await readState(clients, options.namespace);
    const sentinels = options.groups.map((group) =>
      expectedBackends(initial, group).filter((b) => b.id.startsWith(SENTINEL_PREFIX)),
    );
    const firstDiffs = await converge(sidecars, options, clients, token);
    if (firstDiffs.length > 0) {
      report.diffs.push(...firstDiffs);
      return report;
    }
    const interval = options.sampleIntervalMs ?? 100;
    sampling = sampleSentinels(sidecars, sentinels, interval, stopSampling.signal, report);
    const generator = new MutationGenerator(clients, random, options.groups);
    for (let round = 0; round < options.rounds; round++) {
      await runRound(options, random, generator, report);
      if (!(await quiesce(round, sidecars, options, clients, token, report))) break;
    }
  } finally {
    stopSampling.abort();
    await sampling;
    stopFeeds.abort();
    await Promise.all(sidecars.map((s) => s.close()));
    await Promise.all(feeds);
    await client.close();
  }
  return report;
}

function emptyReport(seed: number): ChaosReport {
  return {
    seed,
    operations: 0,
    rejected: 0,
    unreachable: 0,
    faults: {},
    convergeMs: [],
    lostOrStale: 0,
    emptyVersionSteps: 0,
    versionSteps: 0,
    diffs: [],
    samples: 0,
    sentinelChecks: 0,
    violations: 0,
    violationDetails: [],
  };
}

/** One sidecar per group, all on the one token. */
async function startSidecars(options: ChaosOptions, token: string): Promise<Sidecar[]> {
  const sidecars: Sidecar[] = [];
  for (const group of options.groups) {
    sidecars.push(
      await startSidecar({
        kubeConfig: options.kubeConfig,
        namespace: options.namespace,
        groupRef: group,
        listen: '127.0.0.1:0',
        apiToken: token,
        // Small timeouts so that faults are noticed and recovered from within a round.
        watcher: { stallTimeoutMs: 2_000, backoff: { initialMs: 50, maxMs: 1_000 } },
        // Secrets are read, never watched (as upstream): a changed or deleted Secret is picked
        // up by the periodic resync, so convergence after a Secret change takes up to this long.
        resyncPeriodMs: options.resyncPeriodMs ?? 3_000,
        readTimeoutMs: options.readTimeoutMs ?? 1_000,
      }),
    );
  }
  return sidecars;
}

/** A round: mutations, with a random fault now and then during which mutations keep flowing. */
async function runRound(
  options: ChaosOptions,
  random: () => number,
  generator: MutationGenerator,
  report: ChaosReport,
): Promise<void> {
  const log = options.log ?? (() => {});
  const end = Date.now() + (options.seconds * 1000) / options.rounds;
  let nextFault = Date.now() + 500 + random() * 2_000;
  while (Date.now() < end) {
    if (Date.now() >= nextFault && options.faults.length > 0) {
      const fault = options.faults[Math.floor(random() * options.faults.length)] as Fault;
      report.faults[fault.name] = (report.faults[fault.name] ?? 0) + 1;
      log(`fault ${fault.name}`);
      // Mutations keep flowing during the fault, as a real cluster's would.
      const running = fault.run();
      while (!(await Promise.race([running.then(() => true), sleep(50).then(() => false)]))) {
        await generator.mutate(report);
      }
      nextFault = Date.now() + 1_500 + random() * 3_000;
    } else {
      await generator.mutate(report);
      await sleep(random() * 40);
    }
  }
}

/** The end of a round: every sidecar must converge to the oracle. False on a divergence. */
async function quiesce(
  round: number,
  sidecars: readonly Sidecar[],
  options: ChaosOptions,
  clients: Record<Kind, ResourceClient>,
  token: string,
  report: ChaosReport,
): Promise<boolean> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const diffs = await converge(sidecars, options, clients, token);
  const took = Date.now() - started;
  if (diffs.length > 0) {
    report.lostOrStale += diffs.filter((d) => !d.startsWith('group ')).length;
    report.diffs.push(...diffs);
    log(`round ${round}: diverged\n${diffs.join('\n')}`);
    return false;
  }
  report.convergeMs.push(took);
  log(`round ${round}: converged in ${took} ms`);
  return true;
}

const SENTINEL_PREFIX = 'sentinel-';

/**
 * Per group: an MCPServer whose header auth reads its own Secret, an MCPServerEntry with that
 * auth and its own CA ConfigMap, and an unauthenticated MCPRemoteProxy. Names, auth configs,
 * Secrets and ConfigMaps are outside every pool the operations pick from, so their content never
 * changes; their reconciles (at every resync) still read the Secret and ConfigMap, which faults
 * make fail.
 */
async function createSentinels(
  clients: Record<Kind, ResourceClient>,
  groups: readonly string[],
): Promise<void> {
  for (const group of groups) {
    const name = (part: string) => `${SENTINEL_PREFIX}${group}-${part}`;
    const create = (kind: Kind, object: Record<string, unknown>) =>
      clients[kind].create({ kind, ...object } as KubeObject);
    await create('Secret', {
      apiVersion: 'v1',
      metadata: { name: name('secret') },
      data: { value: Buffer.from(`sentinel-value-${group}`).toString('base64') },
    });
    await create('ConfigMap', {
      apiVersion: 'v1',
      metadata: { name: name('ca') },
      data: { 'ca.crt': `-----BEGIN CERTIFICATE-----\n${group}\n-----END CERTIFICATE-----\n` },
    });
    await create('MCPExternalAuthConfig', {
      apiVersion: API,
      metadata: { name: name('auth') },
      spec: {
        type: 'headerInjection',
        headerInjection: {
          headerName: 'X-Sentinel',
          valueSecretRef: { name: name('secret'), key: 'value' },
        },
      },
    });
    const auth = { externalAuthConfigRef: { name: name('auth') } };
    await create('MCPServer', {
      apiVersion: API,
      metadata: { name: name('server') },
      spec: { image: 'example/mcp:1', transport: 'sse', groupRef: { name: group }, ...auth },
    });
    await clients.MCPServer.patchStatus(name('server'), {
      status: { phase: 'Ready', url: `http://${name('server')}.svc:8080` },
    });
    await create('MCPServerEntry', {
      apiVersion: API,
      metadata: { name: name('entry') },
      spec: {
        remoteUrl: `https://${name('entry')}.example.com/mcp`,
        transport: 'streamable-http',
        groupRef: { name: group },
        caBundleRef: { configMapRef: { name: name('ca'), key: 'ca.crt' } },
        ...auth,
      },
    });
    await clients.MCPServerEntry.patchStatus(name('entry'), { status: { phase: 'Valid' } });
    await create('MCPRemoteProxy', {
      apiVersion: API,
      metadata: { name: name('proxy') },
      spec: {
        remoteUrl: 'https://sentinel.example.com/mcp',
        transport: 'sse',
        groupRef: { name: group },
      },
    });
    await clients.MCPRemoteProxy.patchStatus(name('proxy'), {
      status: { phase: 'Ready', url: `http://${name('proxy')}.svc:8080` },
    });
  }
}

/**
 * Samples every sidecar's registry every `intervalMs` until the signal aborts: each sentinel must
 * be present and equal to the oracle's backend in every sample.
 */
async function sampleSentinels(
  sidecars: readonly Sidecar[],
  sentinels: readonly Backend[][],
  intervalMs: number,
  signal: AbortSignal,
  report: ChaosReport,
): Promise<void> {
  const expected = sentinels.map((backends) =>
    backends.map((b) => [b.id, canonicalJson(b)] as const),
  );
  while (!signal.aborted) {
    for (const [i, sidecar] of sidecars.entries()) {
      report.samples++;
      checkSentinels(i, sidecar, expected[i] ?? [], report);
    }
    await sleep(intervalMs);
  }
}

/** One sample of one sidecar: every sentinel present and equal, or a violation recorded. */
function checkSentinels(
  index: number,
  sidecar: Sidecar,
  expected: readonly (readonly [string, string])[],
  report: ChaosReport,
): void {
  const { version } = sidecar.registry;
  for (const [id, json] of expected) {
    report.sentinelChecks++;
    const served = sidecar.registry.get(id);
    if (served !== undefined && canonicalJson(served) === json) continue;
    report.violations++;
    if (report.violationDetails.length < 20) {
      const what = served === undefined ? 'missing' : `differs: ${canonicalJson(served)}`;
      report.violationDetails.push(
        `${new Date().toISOString()} sidecar ${index} version ${version}: sentinel ${id} ${what}`,
      );
    }
  }
}

/** Polls every sidecar until it equals the oracle, or returns the remaining diffs. */
async function converge(
  sidecars: readonly Sidecar[],
  options: ChaosOptions,
  clients: Record<Kind, ResourceClient>,
  token: string,
): Promise<string[]> {
  const deadline = Date.now() + (options.convergeTimeoutMs ?? 60_000);
  for (;;) {
    const state = await readState(clients, options.namespace).catch(() => undefined);
    const late = Date.now() > deadline;
    const diffs: string[] = [];
    if (state) {
      for (const [i, sidecar] of sidecars.entries()) {
        diffs.push(
          ...(await diffSidecar(sidecar, options.groups[i] as string, state, token, late)),
        );
      }
      if (diffs.length === 0) return [];
    }
    if (late) return diffs.length ? diffs : ['the API server could not be read'];
    await sleep(200);
  }
}

/**
 * What one sidecar serves against what the oracle expects of its group (a backend of another
 * group shows as stale: group isolation is part of it); `late` adds the explanations.
 */
async function diffSidecar(
  sidecar: Sidecar,
  group: string,
  state: ClusterState,
  token: string,
  late: boolean,
): Promise<string[]> {
  const response = await fetch(`${sidecar.url}/v1/backends`, {
    headers: { authorization: `Bearer ${token}` },
  }).catch(() => undefined);
  if (!response?.ok)
    return [`group ${group}: /v1/backends answered ${response?.status ?? 'nothing'}`];
  const served = ((await response.json()) as { backends: Backend[] }).backends;
  const diffs: string[] = [];
  for (const diff of diffBackends(served, expectedBackends(state, group))) {
    diffs.push(`${group}: ${diff}`);
    if (late) {
      diffs.push(`  watcher says: ${await explainDiff(sidecar, diff)}`);
      diffs.push(`  cluster holds: ${describeName(state, diff)}`);
    }
  }
  return diffs;
}

/** The objects of that name and what they reference, as the oracle read them. */
function describeName(state: ClusterState, diff: string): string {
  const id = /^(?:missing|stale|differs) ([^:]+):/.exec(diff)?.[1];
  const parts: string[] = [];
  for (const kind of ['MCPServer', 'MCPRemoteProxy', 'MCPServerEntry'] as const) {
    const object = state[kind].find((o) => o.metadata.name === id);
    if (object)
      parts.push(`${kind} ${JSON.stringify({ spec: object.spec, status: object.status })}`);
  }
  return parts.join(' | ') || 'nothing of that name';
}

/** What the watcher's own caches say about a differing id: where the divergence comes from. */
async function explainDiff(sidecar: Sidecar, diff: string): Promise<string> {
  const id = /^(?:missing|stale|differs) ([^:]+):/.exec(diff)?.[1];
  if (!id) return '';
  try {
    const { decision, outcome } = await sidecar.watcher.explain(id);
    return JSON.stringify({
      decision,
      outcome: outcome?.kind === 'skip' ? outcome : outcome?.kind,
    });
  } catch (error) {
    return `explain failed: ${(error as Error).message}`;
  }
}

/** Follows a sidecar's change feed: every version step must change content. */
async function watchVersions(
  sidecar: Sidecar,
  signal: AbortSignal,
  report: ChaosReport,
): Promise<void> {
  const shadow = new Map<string, string>(
    sidecar.registry.list().map((b) => [b.id, JSON.stringify(b)]),
  );
  try {
    for await (const change of sidecar.registry.changes({
      signal,
      sinceVersion: sidecar.registry.version,
    })) {
      report.versionSteps++;
      if (!changesContent(change, shadow)) report.emptyVersionSteps++;
    }
  } catch {
    // Aborted at the end.
  }
}

function changesContent(change: RegistryChange, shadow: Map<string, string>): boolean {
  if (change.reset) {
    shadow.clear();
    for (const b of change.upserted) shadow.set(b.id, JSON.stringify(b));
    return true;
  }
  let changed = false;
  for (const b of change.upserted) {
    const text = JSON.stringify(b);
    if (shadow.get(b.id) !== text) changed = true;
    shadow.set(b.id, text);
  }
  for (const id of change.removed) {
    if (shadow.delete(id)) changed = true;
  }
  return changed;
}
