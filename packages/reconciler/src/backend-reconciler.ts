import {
  type ConversionOutcome,
  type DiscoveryLogger,
  type DiscoveryReader,
  type KubeObjectLike,
  toBackend,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadGroup,
} from '@vmcp/discoverer';
import type { Logger, ObjectKey } from '@vmcp/kube-runtime';
import { silentLogger } from '@vmcp/kube-runtime';
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
  | { action: 'remove-and-retry'; kind: WorkloadKind; error: Error; shadowed: WorkloadKind[] };

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
}

/**
 * Upstream's BackendReconciler, for one namespace and group:
 * 1. read the name as MCPServer, else MCPRemoteProxy, else MCPServerEntry (that precedence decides
 *    when two kinds share a name; the others are reported as shadowed);
 * 2. none → remove; another group → remove;
 * 3. convert with the discoverer: a backend → upsert; a skip (no URL yet, auth unresolved, ...) →
 *    remove; an error (a failed lookup) → remove and throw, so the controller retries with backoff.
 * The registry's version moves only when its content changes.
 */
export class BackendReconciler {
  readonly #options: BackendReconcilerOptions;
  readonly #logger: Logger;

  constructor(options: BackendReconcilerOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({
      component: 'backend-reconciler',
      group: options.group,
    });
  }

  /** Reconciles one name; throws (after removing the backend) when a retry is needed. */
  async reconcile(request: ObjectKey): Promise<void> {
    const decision = await this.decide(request.name);
    const { registry } = this.#options;
    const name = request.name;
    this.#options.observer?.decided?.(name, decision);
    if (decision.action === 'upsert') return;
    registry.remove(name);
    if (decision.action === 'remove-and-retry') {
      this.#logger.warn(
        { name, kind: decision.kind, err: decision.error.message },
        'conversion failed; backend removed, retrying',
      );
      throw decision.error;
    }
    if (decision.reason === 'skipped') {
      this.#logger.info(
        {
          name,
          kind: decision.kind,
          reason: decision.outcome.reason,
          detail: decision.outcome.message,
        },
        'not a backend',
      );
    }
  }

  /** Decides (and applies an upsert) for one name. Removes are applied by {@link reconcile}. */
  async decide(name: string, options: { dryRun?: boolean } = {}): Promise<Decision> {
    const { namespace, group, reader, registry, cachedWorkload } = this.#options;
    let winner: { kind: WorkloadKind; object: KubeObjectLike } | undefined;
    const shadowed: WorkloadKind[] = [];
    for (const kind of WORKLOAD_KINDS) {
      const object = cachedWorkload
        ? cachedWorkload(kind, namespace, name)
        : await reader.getWorkload(kind, namespace, name);
      if (object === undefined) continue;
      if (winner === undefined) winner = { kind, object };
      else shadowed.push(kind);
    }
    if (winner === undefined) return { action: 'remove', reason: 'not-found' };
    if (shadowed.length > 0) {
      this.#logger.warn(
        { name, kind: winner.kind, shadowed },
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
    return { action: 'remove-and-retry', kind: winner.kind, error: outcome.error, shadowed };
  }

  /** The outcome for one name without changing the registry: what `explain` prints. */
  async explain(name: string): Promise<{ decision: Decision; outcome?: ConversionOutcome }> {
    const decision = await this.decide(name, { dryRun: true });
    if (decision.action !== 'upsert') return { decision };
    const { namespace, group, reader } = this.#options;
    const object = await reader.getWorkload(decision.kind, namespace, name);
    return { decision, outcome: await toBackend(decision.kind, object, { reader, group }) };
  }
}
