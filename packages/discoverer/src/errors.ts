/**
 * Errors of the discoverer. Messages name the object (kind, namespace/name), the field or the
 * Secret and key, and what to do: never a secret value.
 */

/** An object the API server accepted with a shape the discoverer cannot read. */
export class InvalidObjectError extends Error {
  override readonly name = 'InvalidObjectError';
  readonly kind: string;
  /** `namespace/name` of the object, as far as it could be read. */
  readonly object: string;
  /** Dotted path of the offending field, e.g. `spec.groupRef.name`. */
  readonly field: string;

  constructor(kind: string, object: string, field: string, problem: string) {
    super(`${kind} ${object}: ${field}: ${problem}`);
    this.kind = kind;
    this.object = object;
    this.field = field;
  }
}

/** Why an auth config could not be resolved. */
export type AuthFailureReason =
  | 'not-found'
  | 'unsupported-type'
  | 'enterprise-required'
  | 'missing-config'
  | 'secret-not-found'
  | 'secret-key-missing'
  | 'secret-value-empty'
  | 'invalid-object'
  | 'lookup-failed';

/**
 * An MCPExternalAuthConfig that cannot become a resolved strategy: the backend stays out. A
 * `lookup-failed` error carries whether the failed read was transient (see
 * `classifyReadFailure`): then nothing is known, and a backend already served is kept.
 */
export class AuthResolutionError extends Error {
  override readonly name = 'AuthResolutionError';
  readonly reason: AuthFailureReason;
  /** `namespace/name` of the MCPExternalAuthConfig. */
  readonly authConfig: string;
  /** True for a `lookup-failed` whose read failed for a transient reason. */
  readonly transient: boolean;

  constructor(
    reason: AuthFailureReason,
    authConfig: string,
    message: string,
    options?: ErrorOptions & { transient?: boolean },
  ) {
    super(`MCPExternalAuthConfig ${authConfig}: ${message}`, options);
    this.reason = reason;
    this.authConfig = authConfig;
    this.transient = options?.transient === true;
  }
}

/** A workload that does not exist (upstream: "MCPServer NAME not found"). */
export class WorkloadNotFoundError extends Error {
  override readonly name = 'WorkloadNotFoundError';
  readonly kind: string;
  readonly workload: string;

  constructor(kind: string, name: string) {
    super(`${kind} ${name} not found`);
    this.kind = kind;
    this.workload = name;
  }
}
