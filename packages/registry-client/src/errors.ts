/** Why a {@link RegistryClientError} was raised, as a stable word to branch on. */
export type RegistryClientErrorReason =
  /** A read before the first snapshot of a ready sidecar was held. */
  | 'NotSynced'
  /** The sidecar answered 401: the bearer token does not match its `--api-token-file`. */
  | 'Unauthorized'
  /** The sidecar (or something in front of it) refused the request for good: another 4xx. */
  | 'Rejected'
  /** The client was closed. */
  | 'Closed';

/**
 * An error of the registry client. Its message names the sidecar (origin and path, never
 * credentials) and what to do; it never contains the token or a secret value.
 */
export class RegistryClientError extends Error {
  override readonly name = 'RegistryClientError';
  readonly reason: RegistryClientErrorReason;
  /** The HTTP status, for `Unauthorized` and `Rejected`. */
  readonly status: number | undefined;

  constructor(reason: RegistryClientErrorReason, message: string, status?: number) {
    super(message);
    this.reason = reason;
    this.status = status;
  }
}
