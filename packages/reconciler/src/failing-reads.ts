import { type ReadFailureReason, readFailureReason } from '@vmcp/discoverer';
import type { Logger } from '@vmcp/kube-runtime';

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
  /**
   * Why the latest attempt failed: the API server refused the watcher's own credentials
   * (`unauthorized`, 401) or permission (`forbidden`, 403), or could not answer (`unavailable`).
   */
  reason: ReadFailureReason;
  /** Attempts that failed since `failingSince`. */
  attempts: number;
}

/**
 * The names whose reads fail for a transient reason now, and when each served name was last
 * resolved. Logs once when a name's reads start failing (again when it starts or stops being
 * served, or the reason changes) and once when they recover: never once per retry.
 */
export class FailingReads {
  readonly #logger: Logger;
  readonly #now: () => number;
  /** When each served name was last resolved (its conversion gave a backend). */
  readonly #resolvedAt = new Map<string, number>();
  readonly #failing = new Map<string, FailingRead>();

  constructor(logger: Logger, now: () => number) {
    this.#logger = logger;
    this.#now = now;
  }

  /** The name was resolved to a backend now. */
  resolved(name: string): void {
    this.#resolvedAt.set(name, this.#now());
  }

  /** The name is not served any more. */
  removed(name: string): void {
    this.#resolvedAt.delete(name);
  }

  /** A reconcile of the name could not read for a transient reason; `served` is what it keeps. */
  failed(name: string, error: Error, served: boolean): void {
    const reason = readFailureReason(error);
    const known = this.#failing.get(name);
    if (known !== undefined && known.served === served && known.reason === reason) {
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
      reason,
      attempts: (known?.attempts ?? 0) + 1,
    });
    const fields = {
      backend: name,
      reason,
      err: error.message,
      ...(lastResolvedAt === undefined
        ? {}
        : { lastResolvedAt: new Date(lastResolvedAt).toISOString() }),
    };
    if (served) {
      this.#logger.warn(
        fields,
        'read failing for now; keeping the backend as last resolved, retrying',
      );
    } else {
      // A refused credential or permission is the operator's to fix: worth a warning even for a
      // name not served yet. An API server that cannot answer is not.
      const level = reason === 'unavailable' ? 'info' : 'warn';
      this.#logger[level](fields, 'read failing for now; not served until it succeeds, retrying');
    }
  }

  /** A reconcile of the name decided on content again (`action`): its failing read ends. */
  recovered(name: string, action: string): void {
    const failing = this.#failing.get(name);
    if (failing === undefined) return;
    this.#failing.delete(name);
    this.#logger.info({ backend: name, attempts: failing.attempts, action }, 'read recovered');
  }

  /** The failing reads now, served (kept) ones included: copies. */
  list(): FailingRead[] {
    return [...this.#failing.values()].map((failing) => ({ ...failing }));
  }

  /** The failing read of one name, if any: a copy. */
  get(name: string): FailingRead | undefined {
    const failing = this.#failing.get(name);
    return failing === undefined ? undefined : { ...failing };
  }
}
