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
import type { Logger, ObjectKey, ReconcileResult } from '@vmcp/kube-runtime';
import { childLogger } from '@vmcp/kube-runtime';
import type { DynamicRegistry } from '@vmcp/registry';
import { withOutgoingAuth } from './auth-resolution.js';
import { type FailingRead, FailingReads } from './failing-reads.js';
import type { OutgoingAuth } from './outgoing-auth.js';
import {
  recordingSecretReads,
  SecretDependencies,
  type SecretVersions,
} from './secret-dependencies.js';

export type { FailingRead } from './failing-reads.js';

/** A same-named workload of another group: ignored, and reported (`explain` names it). */
export interface OtherGroupWorkload {
  kind: WorkloadKind;
  /** Its `spec.groupRef.name`; undefined when it has none (or a malformed one). */
  group: string | undefined;
}

/**
 * What the reconciler decided for one workload name: for logs, metrics and `explain`. Only the
 * workloads of the watched group compete for a name (`shadowed`: the kinds of the group that lost
 * to the winner's precedence); same-named workloads of other groups are ignored (`otherGroups`).
 */
export type Decision =
  | {
      action: 'upsert';
      kind: WorkloadKind;
      changed: boolean;
      shadowed: WorkloadKind[];
      otherGroups: OtherGroupWorkload[];
    }
  | { action: 'remove'; reason: 'not-found' }
  | {
      /** No workload of the group has the name; `kind` and `group` are the first of another. */
      action: 'remove';
      reason: 'other-group';
      kind: WorkloadKind;
      group: string | undefined;
      shadowed: WorkloadKind[];
      otherGroups: OtherGroupWorkload[];
    }
  | {
      action: 'remove';
      reason: 'skipped';
      kind: WorkloadKind;
      outcome: ConversionOutcome & { kind: 'skip' };
      shadowed: WorkloadKind[];
      otherGroups: OtherGroupWorkload[];
    }
  | {
      action: 'remove-and-retry';
      kind: WorkloadKind;
      error: Error;
      shadowed: WorkloadKind[];
      otherGroups: OtherGroupWorkload[];
    }
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
      otherGroups: OtherGroupWorkload[];
    };

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
  /**
   * The vMCP config's `outgoingAuth` now, read after each conversion and applied to its backend
   * (see `withOutgoingAuth`). Absent or undefined: the discovered auth, as without a config.
   */
  outgoingAuth?: () => OutgoingAuth | undefined;
}

/** The workloads that have one name: the group's winner, the group's losers, other groups'. */
interface Found {
  winner: { kind: WorkloadKind; object: KubeObjectLike } | undefined;
  shadowed: WorkloadKind[];
  otherGroups: OtherGroupWorkload[];
}

/**
 * Upstream's BackendReconciler, for one namespace and group:
 * 1. read the name as MCPServer, MCPRemoteProxy and MCPServerEntry, and keep the workloads of
 *    the group: the first in that precedence wins (the others of the group are reported as
 *    shadowed); a same-named workload of another group is ignored (reported as `otherGroups`).
 *    Upstream applies the precedence first and then the group, so another team's MCPServer hides
 *    a backend of ours: a departure, documented in the README;
 * 2. none of the group → remove;
 * 3. convert with the discoverer: a backend → upsert; a skip (no URL yet, auth unresolved, ...) →
 *    remove; an error (a definitive lookup failure) → remove and throw, so the controller retries
 *    with backoff; unavailable (a transient lookup failure, the watcher's own 401 and 403
 *    included) → keep the registry as it is and ask the controller for a rate-limited requeue
 *    (upstream reads from its caches, so an outage never fails its reconcile).
 * The registry's version moves only when its content changes. The Secrets each decisive
 * reconcile read are recorded ({@link BackendReconciler.secretDependencies}), so that a rotated
 * Secret can re-reconcile exactly the names that use it.
 */
export class BackendReconciler {
  /** The Secrets each name's last decisive reconcile read, at the versions read. */
  readonly secretDependencies = new SecretDependencies();
  readonly #options: BackendReconcilerOptions;
  readonly #logger: Logger;
  readonly #failing: FailingReads;
  readonly #now: () => number;
  /**
   * The last decision of each name whose workload is of the group, and when it was made: what a
   * held explain answers. A name found nowhere or in another group is forgotten (the caches say
   * as much for free), so this holds no more names than the group has workloads.
   */
  readonly #decided = new Map<string, DecisionRecord>();

  constructor(options: BackendReconcilerOptions) {
    this.#options = options;
    // The caller's logger carries its context (the watcher binds namespace and group): bound
    // here again, each would be a second key of the same name on every line.
    this.#logger = childLogger(options.logger, { component: 'backend-reconciler' });
    this.#now = options.now ?? Date.now;
    this.#failing = new FailingReads(this.#logger, this.#now);
  }

  /**
   * Reconciles one name. Throws (after removing the backend) when a definitive failure needs a
   * retry; asks the controller to run it again after its rate limiter's delay (`requeue`: per name
   * 5 ms doubling to 1000 s, 10/s with a burst of 100 overall, on the controller's clock),
   * leaving the registry as it is, when a read failed for a transient reason. That is not a
   * failed reconcile, and the controller does not report it as one.
   */
  async reconcile(request: ObjectKey): Promise<ReconcileResult | undefined> {
    const name = request.name;
    const secrets: SecretVersions = new Map();
    const decision = await this.#decide(name, {
      dryRun: false,
      reader: this.#options.reader,
      secrets,
    });
    this.#record(name, decision);
    this.#options.observer?.decided?.(name, decision);
    if (decision.action === 'keep-and-retry') {
      this.#failing.failed(name, decision.error, this.#options.registry.get(name) !== undefined);
      return { requeue: true };
    }
    this.#failing.recovered(name, decision.action);
    this.secretDependencies.record(name, secrets);
    if (decision.action === 'upsert') {
      this.#failing.resolved(name);
      return undefined;
    }
    this.#options.registry.remove(name);
    this.#failing.removed(name);
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

  /** Keeps the last decision of a name of the group; forgets one that is not (any more). */
  #record(name: string, decision: Decision): void {
    if (decision.action === 'remove' && decision.reason !== 'skipped') this.#decided.delete(name);
    else this.#decided.set(name, { decision, decidedAt: this.#now() });
  }

  /**
   * The last decision a reconcile made for `name` and when (epoch ms), if the name's workload
   * was of the group then: no read, nothing decided anew.
   */
  lastDecision(name: string): DecisionRecord | undefined {
    return this.#decided.get(name);
  }

  /** The names whose reads fail for a transient reason now, served (kept) ones included. */
  failingReads(): FailingRead[] {
    return this.#failing.list();
  }

  /** The failing read of one name, if its last reconcile could not read for a transient reason. */
  failingRead(name: string): FailingRead | undefined {
    return this.#failing.get(name);
  }

  /**
   * Decides (and applies an upsert) for one name. Removes are applied by {@link reconcile}.
   * `reader` replaces the reconciler's own for this decision (explain's, bounded by its signal).
   */
  decide(
    name: string,
    options: { dryRun?: boolean; reader?: DiscoveryReader } = {},
  ): Promise<Decision> {
    return this.#decide(name, {
      dryRun: options.dryRun === true,
      reader: options.reader ?? this.#options.reader,
      secrets: undefined,
    });
  }

  /** {@link decide}, recording in `secrets` the Secrets the conversion read, when given. */
  async #decide(
    name: string,
    options: { dryRun: boolean; reader: DiscoveryReader; secrets: SecretVersions | undefined },
  ): Promise<Decision> {
    const { group, registry } = this.#options;
    const found = await this.#find(name, options.reader);
    if ('action' in found) return found;
    const { winner, shadowed, otherGroups } = found;
    if (winner === undefined) {
      const other = otherGroups[0];
      if (other === undefined) return { action: 'remove', reason: 'not-found' };
      return { action: 'remove', reason: 'other-group', ...other, shadowed, otherGroups };
    }
    if (shadowed.length > 0) {
      this.#logger.warn(
        { backend: name, kind: winner.kind, shadowed },
        'several kinds of the group share this name; the first in precedence wins',
      );
    }
    const outcome = this.#withOutgoingAuth(
      name,
      winner.kind,
      await toBackend(winner.kind, winner.object, {
        reader: this.#readerFor(winner.object, options.reader, options.secrets),
        group,
        logger: this.#logger as DiscoveryLogger,
      }),
    );
    const kind = winner.kind;
    if (outcome.kind === 'backend') {
      const changed = options.dryRun ? false : registry.upsert(outcome.backend);
      return { action: 'upsert', kind, changed, shadowed, otherGroups };
    }
    if (outcome.kind === 'skip')
      return { action: 'remove', reason: 'skipped', kind, outcome, shadowed, otherGroups };
    const action = outcome.kind === 'unavailable' ? 'keep-and-retry' : 'remove-and-retry';
    return { action, kind, error: outcome.error, shadowed, otherGroups };
  }

  /**
   * The reader of one conversion: one that records the Secrets read into `secrets` when asked
   * to and the workload has an auth reference (Secrets are read only through one).
   */
  #readerFor(
    workload: KubeObjectLike,
    reader: DiscoveryReader,
    secrets: SecretVersions | undefined,
  ): DiscoveryReader {
    const spec = workload.spec as { externalAuthConfigRef?: unknown } | undefined;
    if (secrets === undefined || spec?.externalAuthConfigRef === undefined) return reader;
    return recordingSecretReads(reader, secrets);
  }

  /**
   * The workloads that have a name, sorted by group first: the group's winner in upstream's
   * precedence (MCPServer, MCPRemoteProxy, MCPServerEntry) and the kinds it shadows, and the
   * same-named workloads of other groups; a decision when reading a workload failed.
   */
  async #find(name: string, reader: DiscoveryReader): Promise<Found | Decision> {
    const { namespace, cachedWorkload, group } = this.#options;
    const found: Found = { winner: undefined, shadowed: [], otherGroups: [] };
    for (const kind of WORKLOAD_KINDS) {
      let object: KubeObjectLike | undefined;
      try {
        object = cachedWorkload
          ? cachedWorkload(kind, namespace, name)
          : await reader.getWorkload(kind, namespace, name);
      } catch (error) {
        return workloadReadFailed(kind, `${namespace}/${name}`, error, found);
      }
      if (object === undefined) continue;
      const objectGroup = groupOf(object, kind);
      if (objectGroup !== group) found.otherGroups.push({ kind, group: objectGroup });
      else if (found.winner === undefined) found.winner = { kind, object };
      else found.shadowed.push(kind);
    }
    return found;
  }

  /**
   * The outcome for one name without changing the registry: what `explain` prints. `failing`
   * is the name's failing read when its last reconcile could not read for a transient reason
   * (the backend served meanwhile is the one last resolved). `reader` replaces the reconciler's
   * own; each object is read at most once per explain.
   */
  async explain(
    name: string,
    options: { reader?: DiscoveryReader } = {},
  ): Promise<{ decision: Decision; outcome?: ConversionOutcome; failing?: FailingRead }> {
    const reader = readOnce(options.reader ?? this.#options.reader);
    const decision = await this.decide(name, { dryRun: true, reader });
    const failing = this.failingRead(name);
    const withFailing = failing === undefined ? {} : { failing };
    if (decision.action !== 'upsert') return { decision, ...withFailing };
    const { namespace, group } = this.#options;
    const object = await reader.getWorkload(decision.kind, namespace, name);
    return {
      decision,
      outcome: this.#withOutgoingAuth(
        name,
        decision.kind,
        await toBackend(decision.kind, object, { reader, group }),
      ),
      ...withFailing,
    };
  }

  /** The outcome with the vMCP config's `outgoingAuth` as it is now (read after the await). */
  #withOutgoingAuth(
    name: string,
    kind: WorkloadKind,
    outcome: ConversionOutcome,
  ): ConversionOutcome {
    const where = `${kind} ${this.#options.namespace}/${name}`;
    return withOutgoingAuth(outcome, this.#options.outgoingAuth?.(), where);
  }
}

/** A decision as the reconciler keeps it: what it was and when it was made (epoch ms). */
export interface DecisionRecord {
  decision: Decision;
  decidedAt: number;
}

/**
 * `reader`, with each object read at most once (a failed read is not kept): an explain decides
 * and then converts, and the two must not read the same Secret twice.
 */
function readOnce(reader: DiscoveryReader): DiscoveryReader {
  const reads = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let pending = reads.get(key) as Promise<T> | undefined;
    if (pending === undefined) {
      pending = read();
      reads.set(key, pending);
      pending.catch(() => reads.delete(key));
    }
    return pending;
  };
  return {
    getWorkload: (kind, namespace, name) =>
      once(`${kind}/${namespace}/${name}`, () => reader.getWorkload(kind, namespace, name)),
    listWorkloads: (kind, namespace) => reader.listWorkloads(kind, namespace),
    getExternalAuthConfig: (namespace, name) =>
      once(`auth/${namespace}/${name}`, () => reader.getExternalAuthConfig(namespace, name)),
    getConfigMap: (namespace, name) =>
      once(`configmap/${namespace}/${name}`, () => reader.getConfigMap(namespace, name)),
    getSecret: (namespace, name) =>
      once(`secret/${namespace}/${name}`, () => reader.getSecret(namespace, name)),
  };
}

/** The group of a workload; undefined when it has none or a malformed one. */
function groupOf(object: KubeObjectLike, kind: WorkloadKind): string | undefined {
  try {
    return workloadGroup(object, kind);
  } catch {
    return undefined;
  }
}

/** The decision when reading a workload failed (only a reader that goes to the API server can). */
function workloadReadFailed(
  kind: WorkloadKind,
  where: string,
  error: unknown,
  { shadowed, otherGroups }: Found,
): Decision {
  const failure = new Error(`${kind} ${where} could not be read`, { cause: error });
  return classifyReadFailure(error) === 'transient'
    ? { action: 'keep-and-retry', kind: undefined, error: failure, shadowed, otherGroups }
    : { action: 'remove-and-retry', kind, error: failure, shadowed, otherGroups };
}
