/**
 * Keeps one {@link BackendConnection} per backend of the registry: it follows the registry's
 * versions, opens a connection for a backend that appears, closes the one of a backend that
 * leaves, and replaces the one of a backend whose connection settings changed (URL, transport,
 * auth, headers, CA: a rotated Secret is a change of settings).
 *
 * The supervisor is itself `Versioned`: its version moves whenever it applied a registry version
 * or a connection changed state or tools. Data derived from the connections (the catalog) is
 * computed with `memoByVersion(supervisor, …)`, so it is recomputed on the first read after
 * such a change, never on the change itself.
 */
import { deepEqual, type RegistryReader, type Versioned } from '@vmcp/registry';
import { BackendConnection, type BackendConnectionOptions } from './backend-connection.js';
import { connectionSettings } from './backend-settings.js';
import type { Logger } from './log.js';

/** Options of a {@link BackendSupervisor}: those of its connections, and where env comes from. */
export interface SupervisorOptions extends Omit<BackendConnectionOptions, 'onChange'> {
  /** The environment `headerForward`'s secret headers are read from (`TOOLHIVE_SECRET_*`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

/** The connections of every backend in a registry. */
export class BackendSupervisor implements Versioned {
  readonly #connections = new Map<string, BackendConnection>();
  readonly #listeners = new Set<() => void>();
  #version = 0;
  #registryVersion: number | undefined;
  #closed = false;

  constructor(
    private readonly registry: RegistryReader,
    private readonly options: SupervisorOptions,
  ) {}

  /** Moves whenever a registry version was applied or a connection changed. */
  get version(): number {
    return this.#version;
  }

  /** The registry version whose backends the connections follow; undefined before the first. */
  get registryVersion(): number | undefined {
    return this.#registryVersion;
  }

  /** The connections, sorted by backend id. */
  connections(): BackendConnection[] {
    return [...this.#connections.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): BackendConnection | undefined {
    return this.#connections.get(id);
  }

  /** Calls `listener` after every version step; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Follows the registry until `signal` aborts (resolves) or the registry fails (rejects: the
   * connections stay as they are, serving the last known backends). The registry must be synced.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.#closed) {
      const version = this.registry.version;
      this.#apply(version);
      try {
        await this.registry.waitForChange(version, { signal });
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
    }
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(connections.map((connection) => connection.close()));
    this.#bump();
  }

  /** Makes the connections match the registry's backends at `registryVersion`. */
  #apply(registryVersion: number): void {
    const present = new Set<string>();
    for (const backend of this.registry.list()) {
      present.add(backend.id);
      const settings = connectionSettings(backend, this.options.env);
      const current = this.#connections.get(backend.id);
      if (current !== undefined && deepEqual(current.settings, settings)) continue;
      if (current !== undefined) this.#retire(current, 'changed');
      this.#open(backend.id, settings);
    }
    for (const connection of this.#connections.values()) {
      if (!present.has(connection.id)) this.#retire(connection, 'removed');
    }
    this.#registryVersion = registryVersion;
    this.#bump();
  }

  #open(id: string, settings: BackendConnection['settings']): void {
    const connection = new BackendConnection(id, settings, {
      ...this.options,
      logger: this.options.logger,
      onChange: () => {
        if (this.#connections.get(id) === connection) this.#bump();
      },
    });
    this.#connections.set(id, connection);
    connection.start();
  }

  /** Takes a connection out (its tools leave the catalog at once) and closes its client. */
  #retire(connection: BackendConnection, why: 'changed' | 'removed'): void {
    if (this.#connections.get(connection.id) === connection)
      this.#connections.delete(connection.id);
    this.options.logger.info({ backend: connection.id }, `backend ${why}: closing its client`);
    void connection.close();
  }

  #bump(): void {
    this.#version++;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        this.options.logger.error(
          { error: error instanceof Error ? error.message : String(error) },
          'a supervisor listener threw',
        );
      }
    }
  }
}
