import type { FieldError } from './schema.js';

/** A Kubernetes `Status` object, as the API server returns for failures. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: FieldError[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** A failure answered with a `Status` body. */
export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Status['details'],
  ) {
    super(message);
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }

  static badRequest(message: string): ApiFailure {
    return new ApiFailure(400, 'BadRequest', message);
  }

  static notFound(resource: string, group: string, name: string): ApiFailure {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiFailure(404, 'NotFound', `${what} "${name}" not found`, {
      name,
      group,
      kind: resource,
    });
  }

  static alreadyExists(resource: string, group: string, name: string): ApiFailure {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiFailure(409, 'AlreadyExists', `${what} "${name}" already exists`, {
      name,
      group,
      kind: resource,
    });
  }

  static conflict(resource: string, group: string, name: string): ApiFailure {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiFailure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${what} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group, kind: resource },
    );
  }

  static invalid(kind: string, group: string, name: string, causes: FieldError[]): ApiFailure {
    const what = group ? `${kind}.${group}` : kind;
    return new ApiFailure(
      422,
      'Invalid',
      `${what} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { name, group, kind, causes },
    );
  }

  static gone(message: string): ApiFailure {
    return new ApiFailure(410, 'Expired', message);
  }
}
