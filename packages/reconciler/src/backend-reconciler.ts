import {
  type ConversionOutcome,
  classifyReadFailure,
  type DiscoveryLogger,
  type DiscoveryReader,
  type KubeObjectLike,
  toBackend,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadGroup,
} from '@vmcp/discoverer';
import type { Logger, ObjectKey, RateLimiter, ReconcileResult } from '@vmcp/kube-runtime';
import { defaultControllerRateLimiter, silentLogger } from '@vmcp/kube-runtime';
import type { DynamicRegistry } from '@vmcp/registry';

/** What the reconciler decided for one workload name: for logs, metrics and `explain`. */
export type Decision =
  | { action: 'upsert'; kind: WorkloadKind; changed: boolean; shadowed: WorkloadKind[] }
  | { action: 'remove'; reason: 'not-found' }
  | {
      action: 'remove';
      reason: 'other-group';
      kind: WorkloadKind;
      group: string | undefined;
      shadowed: WorkloadKind[];
    }
  | {
      action: 'remove';
      reason: 'skipped';
      kind: WorkloadKind;
      outcome: ConversionOutcome & { kind: 'skip' };
      shadowed: WorkloadKind[];
    }
  | { action: 'remove-and-retry'; kind: WorkloadKind; error: Error; shadowed: WorkloadKind[] }
  | {
      /**
       * A read failed for a transient reason: nothing is known, so the registry is left exactly
       * as it is (a served backend stays, an absent name stays absent) and the name is retried.
       */
      action: 'keep-and-retry';
      /** The kind being converted; undefined when reading the workload itself failed. */
      kind: WorkloadKind | undefined;
      error: Error;
      shadowed: WorkloadKind[];
    };

/**
 * A name whose last reconcile could not read what it needs for a transient reason (see
 * `classifyReadFailure`), with what the registry holds for it meanwhile. No secret value: `cause`
 * names objects, keys and status codes only.
 */
export interface FailingRead {
  name: string;
  /** True when a backend is served for the name: it is kept exactly as last resolved. */
  served: boolean;
  /** When the served backend was last resolved (epoch ms); undefined when nothing is served. */
  lastResolvedAt: number | undefined;
  /** When the reads started failing (epoch ms). */
  failingSince: number;
  /** The failure of the latest attempt. */
  cause: string;
  /** Attempts that failed since `failingSince`. */
  attempts: number;
}

/** Observations of the reconciler (all optional). */
export interface ReconcilerObserver {
  decided?(name: string, decision: Decision): void;
}

/** Options of {@link BackendReconciler}. */
export interface BackendReconcilerOptions {
  namespace: string;
  /** The group name (compared with `spec.groupRef.name`). */
  group: string;
  registry: DynamicRegistry;
  /** Workloads, auth configs and ConfigMaps from the informer caches; Secrets by direct GET. */
  reader: DiscoveryReader;
  /**
   * The workloads of `reader`, read synchronously (from the informer caches). When given, a
   * reconcile looks its name up without waiting on a promise per kind.
   */
  cachedWorkload?: (
    kind: WorkloadKind,
    namespace: string,
    name: string,
  ) => KubeObjectLike | undefined;
  logger?: Logger;
  observer?: ReconcilerObserver;
  /** Wall-clock time (epoch ms) for `lastResolvedAt` and `failingSince`. Default `Date.now`. */
  now?: () => number;
}

/**
 * Upstream's BackendReconciler, for one namespace and group:
 * 1. read the name as MCPServer, else MCPRemoteProxy, else MCPServerEntry (that precedence decides
 *    when two kinds share a name; the others are reported as shadowed);
 * 2. none → remove; another group → remove;
 * 3. convert with the discoverer: a backend → upsert; a skip (no URL yet, auth unresolved, ...) →
 *    remove; an error (a definitive lookup failure) → remove and throw, so the controller retries
 *    with backoff; unavailable (a transient lookup failure) → keep the registry as it is and
 *    retry with backoff (upstream reads from its caches, so an outage never fails its reconcile).
 * The registry's version moves only when its content changes.
 */
export class BackendReconciler {
  readonly #options: BackendReconcilerOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  /** When each served name was last resolved (its conversion gave a backend). */
  readonly #resolvedAt = new Map<string, number>();
  /** Names whose last reconcile failed to read for a transient reason. */
  readonly #failing = new Map<string, FailingRead>();
  /**
   * How long a name whose read failed waits before its next try: the controller's own policy
   * (per name 5 ms doubling to 1000 s, 10/s with a burst of 100 overall), kept here because a
   * transient read failure is not a failed reconcile and is not reported as one.
   */
  readonly #retries: RateLimiter<string> = defaultControllerRateLimiter<string>();

  constructor(options: BackendReconcilerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // The caller's logger carries its context (the watcher binds namespace and group): bound
    // here again, each would be a second key of the same name on every line.
    this.#logger = (options.logger ?? silentLogger).child({ component: 'backend-reconciler' });
  }

  /**
   * Reconciles one name. Throws (after removing the backend) when a definitive failure needs a
   * retry; asks to run again after a rate-limited delay (`requeueAfterMs`), leaving the registry
   * as it is, when a read failed for a transient reason.
   */
  async reconcile(request: ObjectKey): Promise<ReconcileResult | undefined> {
    const decision = await this.decide(request.name);
    const { registry } = this.#options;
    const name = request.name;
    this.#options.observer?.decided?.(name, decision);
    if (decision.action === 'keep-and-retry') {
      this.#readFailed(name, decision.error);
      return { requeueAfterMs: this.#retries.when(name) };
    }
    this.#readRecovered(name, decision);
    if (decision.action === 'upsert') {
      this.#resolvedAt.set(name, this.#now());
      return undefined;
    }
    registry.remove(name);
    this.#resolvedAt.delete(name);
    if (decision.action === 'remove-and-retry') {
      this.#logger.warn(
        { backend: name, kind: decision.kind, err: decision.error.message },
        'conversion failed; backend removed, retrying',
      );
      throw decision.error;
    }
    if (decision.reason === 'skipped') {
      this.#logger.info(
        {
          backend: name,
          kind: decision.kind,
          reason: decision.outcome.reason,
          detail: decision.outcome.message,
        },
        'not a backend',
      );
    }
    return undefined;
  }

  /** The names whose reads fail for a transient reason now, served (kept) ones included. */
  failingReads(): FailingRead[] {
    return [...this.#failing.values()].map((failing) => ({ ...failing }));
  }

  /** The failing read of one name, if its last reconcile could not read for a transient reason. */
  failingRead(name: string): FailingRead | undefined {
    const failing = this.#failing.get(name);
    return failing === undefined ? undefined : { ...failing };
  }

  /** Records a transient failure; logs once per name, not once per retry. */
  #readFailed(name: string, error: Error): void {
    const served = this.#options.registry.get(name) !== undefined;
    const known = this.#failing.get(name);
    if (known !== undefined && known.served === served) {
      known.cause = error.message;
      known.attempts++;
      return;
    }
    const lastResolvedAt = served ? this.#resolvedAt.get(name) : undefined;
    this.#failing.set(name, {
      name,
      served,
      lastResolvedAt,
      failingSince: known?.failingSince ?? this.#now(),
      cause: error.message,
      attempts: (known?.attempts ?? 0) + 1,
    });
    if (served) {
      this.#logger.warn(
        {
          backend: name,
          err: error.message,
          ...(lastResolvedAt === undefined
            ? {}
            : { lastResolvedAt: new Date(lastResolvedAt).toISOString() }),
        },
        'read failing for now; keeping the backend as last resolved, retrying',
      );
    } else {
      this.#logger.info(
        { backend: name, err: error.message },
        'read failing for now; not served until it succeeds, retrying',
      );
    }
  }

  /** Ends a failing read once a reconcile of the name decided on content again. */
  #readRecovered(name: string, decision: Decision): void {
    this.#retries.forget(name);
    const failing = this.#failing.get(name);
    if (failing === undefined) return;
    this.#failing.delete(name);
    this.#logger.info(
      { backend: name, attempts: failing.attempts, action: decision.action },
      'read recovered',
    );
  }

  /** Decides (and applies an upsert) for one name. Removes are applied by {@link reconcile}. */
  async decide(name: string, options: { dryRun?: boolean } = {}): Promise<Decision> {
    const { group, reader, registry } = this.#options;
    const found = await this.#find(name);
    if ('action' in found) return found;
    const { winner, shadowed } = found;
    if (winner === undefined) return { action: 'remove', reason: 'not-found' };
    if (shadowed.length > 0) {
      this.#logger.warn(
        { backend: name, kind: winner.kind, shadowed },
        'several kinds share this name; the first in precedence wins',
      );
    }
    let workloadGroupName: string | undefined;
    try {
      workloadGroupName = workloadGroup(winner.object, winner.kind);
    } catch {
      workloadGroupName = undefined;
    }
    if (workloadGroupName !== group) {
      return {
        action: 'remove',
        reason: 'other-group',
        kind: winner.kind,
        group: workloadGroupName,
        shadowed,
      };
    }
    const outcome = await toBackend(winner.kind, winner.object, {
      reader,
      group,
      logger: this.#logger as DiscoveryLogger,
    });
    if (outcome.kind === 'backend') {
      const changed = options.dryRun ? false : registry.upsert(outcome.backend);
      return { action: 'upsert', kind: winner.kind, changed, shadowed };
    }
    if (outcome.kind === 'skip')
      return { action: 'remove', reason: 'skipped', kind: winner.kind, outcome, shadowed };
    if (outcome.kind === 'unavailable')
      return { action: 'keep-and-retry', kind: winner.kind, error: outcome.error, shadowed };
    return { action: 'remove-and-retry', kind: winner.kind, error: outcome.error, shadowed };
  }

  /**
   * The workload a name resolves to, in upstream's precedence (MCPServer, MCPRemoteProxy,
   * MCPServerEntry), with the kinds it shadows; a decision when reading a workload failed.
   */
  async #find(name: string): Promise<
    | {
        winner: { kind: WorkloadKind; object: KubeObjectLike } | undefined;
        shadowed: WorkloadKind[];
      }
    | Decision
  > {
    const { namespace, reader, cachedWorkload } = this.#options;
    let winner: { kind: WorkloadKind; object: KubeObjectLike } | undefined;
    const shadowed: WorkloadKind[] = [];
    for (const kind of WORKLOAD_KINDS) {
      let object: KubeObjectLike | undefined;
      try {
        object = cachedWorkload
          ? cachedWorkload(kind, namespace, name)
          : await reader.getWorkload(kind, namespace, name);
      } catch (error) {
        // Only a reader that goes to the API server (explain's) can fail here.
        const failure = new Error(`${kind} ${namespace}/${name} could not be read`, {
          cause: error,
        });
        return classifyReadFailure(error) === 'transient'
          ? { action: 'keep-and-retry', kind: undefined, error: failure, shadowed }
          : { action: 'remove-and-retry', kind, error: failure, shadowed };
      }
      if (object === undefined) continue;
      if (winner === undefined) winner = { kind, object };
      else shadowed.push(kind);
    }
    return { winner, shadowed };
  }

  /**
   * The outcome for one name without changing the registry: what `explain` prints. `failing`
   * is the name's failing read when its last reconcile could not read for a transient reason
   * (the backend served meanwhile is the one last resolved).
   */
  async explain(
    name: string,
  ): Promise<{ decision: Decision; outcome?: ConversionOutcome; failing?: FailingRead }> {
    const decision = await this.decide(name, { dryRun: true });
    const failing = this.failingRead(name);
    const withFailing = failing === undefined ? {} : { failing };
    if (decision.action !== 'upsert') return { decision, ...withFailing };
    const { namespace, group, reader } = this.#options;
    const object = await reader.getWorkload(decision.kind, namespace, name);
    return {
      decision,
      outcome: await toBackend(decision.kind, object, { reader, group }),
      ...withFailing,
    };
  }
}
