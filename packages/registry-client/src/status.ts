import type { ConnectionPhase, Transport } from './connection.js';
import type { Connector } from './connector.js';
import type { RegistryClientError } from './errors.js';
import type { SidecarReplica } from './replica.js';

/** What a client knows about its connection, for logs, health checks and metrics. */
export interface RegistryClientStatus {
  readonly phase: ConnectionPhase;
  readonly transport: Transport;
  /** True once the first snapshot of a ready sidecar is held. Stays true. */
  readonly synced: boolean;
  /** The sidecar's version of what is held (`version` differs only after a backwards restart). */
  readonly sidecarVersion: number | undefined;
  /**
   * Versions the sidecar announced beyond what is held (0 when current). Only the sidecar held
   * counts: after a restart, what the one before announced is forgotten.
   */
  readonly versionLag: number;
  /**
   * `secrets` when the held backends carry secret values, `redacted` when they are
   * `[REDACTED]`, as the sidecar says of its answers; undefined before the first.
   */
  readonly access: 'secrets' | 'redacted' | undefined;
  /** Attempts that ended in a retry, by reason. */
  readonly reconnects: Readonly<Record<string, number>>;
  /** Snapshots taken after the first (sidecar restarts, resumes past its history). */
  readonly resets: number;
  /** What stopped the client for good (401, 403, another 4xx), if anything. */
  readonly error: RegistryClientError | undefined;
}

/** The status, read from the connection and the replica as they are now. */
export function statusOf(connector: Connector, replica: SidecarReplica): RegistryClientStatus {
  const { phase, transport, error } = connector.state;
  return {
    phase,
    transport,
    synced: replica.synced,
    sidecarVersion: replica.sidecarVersion,
    versionLag: replica.versionLag,
    access: replica.access,
    reconnects: connector.reconnects(),
    resets: replica.resets,
    error,
  };
}
