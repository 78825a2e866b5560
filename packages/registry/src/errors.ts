/** Raised when a backend handed to a registry cannot be stored (an empty or missing id). */
export class InvalidBackendError extends Error {
  override readonly name = 'InvalidBackendError';
  /** The problem, as a stable word to branch on. */
  readonly reason: 'EmptyId' | 'NotAnObject';

  constructor(reason: InvalidBackendError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Checks the one thing a registry requires of a backend: an object with a non-empty string id. */
export function assertStorable(backend: unknown, where: string): void {
  if (typeof backend !== 'object' || backend === null || Array.isArray(backend)) {
    throw new InvalidBackendError('NotAnObject', `${where}: a backend must be an object`);
  }
  const id = (backend as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') {
    throw new InvalidBackendError('EmptyId', `${where}: backend id must be a non-empty string`);
  }
}
