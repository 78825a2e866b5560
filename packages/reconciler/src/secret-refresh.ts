import type { Clock, Logger } from '@vmcp/kube-runtime';
import { runPeriodically } from './periodic.js';
import type { SecretDependencies } from './secret-dependencies.js';

/** Upstream has none (a rotated Secret waits for an unrelated event): 60 s, jittered. */
export const DEFAULT_SECRET_REFRESH_PERIOD_MS = 60_000;

/** What one read of a refresh round found. */
export type SecretRefreshResult = 'unchanged' | 'changed' | 'failed';

/** Options of {@link startSecretRefresh}. */
export interface SecretRefreshOptions {
  /** A round about this often (jittered ×0.9–1.1 each time); 0 turns the refresh off. */
  periodMs: number;
  /** Which names depend on which Secret, at which version. */
  dependencies: SecretDependencies;
  /**
   * Reads one Secret's `resourceVersion` (`null` when it is missing), within the read bound;
   * throws when the read fails. It need not read the Secret's data.
   */
  read(secret: string, signal: AbortSignal): Promise<string | null>;
  /** Re-reconciles a name. */
  enqueue(name: string): void;
  /** Reads at once. */
  concurrency: number;
  clock: Clock;
  random?: (() => number) | undefined;
  logger: Logger;
  /** Called once per read with what it found (for metrics). */
  observe?: ((result: SecretRefreshResult) => void) | undefined;
}

/**
 * Re-reads, every period, each Secret that some name depends on (each once, however many names
 * use it; `concurrency` at a time, each within the read bound of `read`), and re-reconciles
 * exactly the names that were resolved from another version of it than the one read now (a
 * rotated value, a Secret deleted or created). A failed read changes nothing: the names keep what
 * they serve and the Secret is read again next round. Secrets are never listed or watched, so
 * `get` on Secrets is all the RBAC it needs. Returns the function that stops it.
 */
export function startSecretRefresh(options: SecretRefreshOptions): () => void {
  const stop = new AbortController();
  const stopRounds = runPeriodically({
    clock: options.clock,
    periodMs: options.periodMs,
    random: options.random,
    task: () => refreshRound(options, stop.signal),
  });
  return () => {
    stop.abort();
    stopRounds();
  };
}

/** One round: every Secret depended on, read once, `concurrency` at a time. */
async function refreshRound(options: SecretRefreshOptions, signal: AbortSignal): Promise<void> {
  const secrets = options.dependencies.secrets();
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < secrets.length && !signal.aborted) {
      const secret = secrets[next++] as string;
      const result = await refreshOne(options, secret, signal);
      options.observe?.(result);
      if (result === 'failed') failed++;
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, secrets.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failed > 0 && !signal.aborted) {
    options.logger.warn(
      { failed, secrets: secrets.length },
      'Secret refresh: some reads failed; what they serve is kept, and they are read again next period',
    );
  }
}

/** Reads one Secret and re-reconciles the names resolved from another version of it. */
async function refreshOne(
  options: SecretRefreshOptions,
  secret: string,
  signal: AbortSignal,
): Promise<SecretRefreshResult> {
  let version: string | null;
  try {
    version = await options.read(secret, signal);
  } catch {
    return 'failed';
  }
  const stale = options.dependencies.stale(secret, version);
  if (stale.length === 0) return 'unchanged';
  options.logger.info(
    { secret, backends: stale, deleted: version === null },
    'Secret changed; re-reconciling the names that use it',
  );
  for (const name of stale) options.enqueue(name);
  return 'changed';
}
