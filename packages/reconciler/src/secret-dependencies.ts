import type { DiscoveryReader } from '@vmcp/discoverer';

/**
 * What one reconcile read of each Secret, by Secret name: its `resourceVersion`, or `null` when
 * the Secret was missing. (resourceVersion is opaque: compared for equality only.)
 */
export type SecretVersions = Map<string, string | null>;

/**
 * A reader that records in `versions` every Secret read through it. Every other read goes to
 * `reader` unchanged (methods are called on it, so a reader that is a class instance works too).
 */
export function recordingSecretReads(
  reader: DiscoveryReader,
  versions: SecretVersions,
): DiscoveryReader {
  return {
    getWorkload: (kind, namespace, name) => reader.getWorkload(kind, namespace, name),
    listWorkloads: (kind, namespace) => reader.listWorkloads(kind, namespace),
    getExternalAuthConfig: (namespace, name) => reader.getExternalAuthConfig(namespace, name),
    getConfigMap: (namespace, name) => reader.getConfigMap(namespace, name),
    getSecret: async (namespace, name) => {
      const secret = await reader.getSecret(namespace, name);
      const resourceVersion = secret?.metadata?.resourceVersion;
      versions.set(name, secret === undefined ? null : (resourceVersion ?? ''));
      return secret;
    },
  };
}

/**
 * Which Secrets each name depends on, and at which version: what the name's last decisive
 * reconcile read (one that resolved a backend or decided it is none; not one whose reads failed
 * for a transient reason, which leaves the record as it was). Secrets are named within the one
 * namespace the reconciler serves.
 *
 * A name is recorded whether or not it is served, so that a Secret it waits for (missing, or
 * without the key) is watched for as well as one it is served from.
 */
export class SecretDependencies {
  /** Name → Secret → the version its last decisive reconcile read. */
  readonly #byName = new Map<string, ReadonlyMap<string, string | null>>();
  /** Secret → the names that read it. */
  readonly #dependents = new Map<string, Set<string>>();

  /** Replaces what `name` depends on with the Secrets its reconcile read (none: forgets it). */
  record(name: string, versions: ReadonlyMap<string, string | null>): void {
    const before = this.#byName.get(name);
    if (before === undefined && versions.size === 0) return;
    for (const secret of before?.keys() ?? []) {
      if (versions.has(secret)) continue;
      const names = this.#dependents.get(secret);
      names?.delete(name);
      if (names?.size === 0) this.#dependents.delete(secret);
    }
    if (versions.size === 0) {
      this.#byName.delete(name);
      return;
    }
    this.#byName.set(name, new Map(versions));
    for (const secret of versions.keys()) {
      let names = this.#dependents.get(secret);
      if (names === undefined) {
        names = new Set();
        this.#dependents.set(secret, names);
      }
      names.add(name);
    }
  }

  /** Forgets `name` (its workload is gone, or not of the group). */
  forget(name: string): void {
    this.record(name, new Map());
  }

  /** The Secrets some name depends on, each once. */
  secrets(): string[] {
    return [...this.#dependents.keys()];
  }

  /** How many Secrets some name depends on. */
  get size(): number {
    return this.#dependents.size;
  }

  /** The names that depend on `secret`. */
  dependents(secret: string): string[] {
    return [...(this.#dependents.get(secret) ?? [])];
  }

  /**
   * The names that depend on `secret` and were resolved from another version than
   * `resourceVersion` (`null`: the Secret is missing now): exactly those a change affects.
   */
  stale(secret: string, resourceVersion: string | null): string[] {
    const stale: string[] = [];
    for (const name of this.#dependents.get(secret) ?? []) {
      if (this.#byName.get(name)?.get(secret) !== resourceVersion) stale.push(name);
    }
    return stale;
  }

  /** The Secrets `name` depends on, with the versions read: for `explain` and tests. */
  of(name: string): ReadonlyMap<string, string | null> {
    return this.#byName.get(name) ?? new Map();
  }
}
