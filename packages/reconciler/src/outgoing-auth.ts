import { deepEqual } from '@vmcp/registry';
import {
  type AuthStrategyConfig,
  type ConfiguredStrategy,
  parseAuthStrategy,
} from './auth-strategy-config.js';
import {
  childPath,
  describeType,
  type Environment,
  looksLikeKeyword,
  mappingAt,
  OutgoingAuthConfigError,
  unknownKeyPath,
} from './config-values.js';

/**
 * Where a backend's auth comes from (upstream's `outgoingAuth.source`):
 * - `discovered`: the auth discovered from the workload's `externalAuthConfigRef` when it has one,
 *   else the file's `backends.<name>`, else its `default`, else none;
 * - `inline` (also when `source` is absent, as upstream): `backends.<name>`, else `default`, else
 *   none; discovered auth is ignored.
 */
export type OutgoingAuthSource = 'discovered' | 'inline';

/** The `outgoingAuth` block of a vMCP config file, as the file spells it. */
export interface OutgoingAuthConfig {
  source?: OutgoingAuthSource;
  default?: AuthStrategyConfig;
  backends?: Record<string, AuthStrategyConfig>;
}

/** Options of {@link parseOutgoingAuth}. */
export interface ParseOutgoingAuthOptions {
  /** Where `...Env` fields are read from. Default `process.env`. */
  env?: Environment;
  /** The block's path in the file, for errors. Default `outgoingAuth`. */
  path?: string;
}

const SOURCES: readonly OutgoingAuthSource[] = ['discovered', 'inline'];
/** A Kubernetes resource name (DNS-1123 subdomain): what a backend name is. */
const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A checked `outgoingAuth` block, every strategy resolved (environment variables read). Make one
 * with {@link parseOutgoingAuth}. Holds secret material: never log it; {@link summary} is what
 * can be logged.
 */
export class OutgoingAuth {
  readonly source: OutgoingAuthSource;
  /** Whether `source` was given (absent means `inline`, as upstream). */
  readonly sourceGiven: boolean;
  readonly default: ConfiguredStrategy | undefined;
  /** By backend name (a workload's resource name). */
  readonly backends: ReadonlyMap<string, ConfiguredStrategy>;

  /** @internal Use {@link parseOutgoingAuth}. */
  constructor(
    source: OutgoingAuthSource | undefined,
    fallback: ConfiguredStrategy | undefined,
    backends: ReadonlyMap<string, ConfiguredStrategy>,
  ) {
    this.source = source ?? 'inline';
    this.sourceGiven = source !== undefined;
    this.default = fallback;
    this.backends = backends;
    Object.freeze(this);
  }

  /** True when both give every backend the same auth (secret values compared too). */
  equals(other: OutgoingAuth | undefined): boolean {
    return (
      other !== undefined &&
      this.source === other.source &&
      deepEqual(this.default, other.default) &&
      this.backends.size === other.backends.size &&
      [...this.backends].every(([name, strategy]) => deepEqual(strategy, other.backends.get(name)))
    );
  }

  /** What can be logged: the source and the strategy types, never a value. */
  summary(): {
    source: OutgoingAuthSource;
    default: string | undefined;
    backends: Record<string, string>;
  } {
    const typeOf = (configured: ConfiguredStrategy) =>
      'strategy' in configured ? configured.strategy.type : 'unservable';
    return {
      source: this.source,
      default: this.default === undefined ? undefined : typeOf(this.default),
      backends: Object.fromEntries([...this.backends].map(([name, s]) => [name, typeOf(s)])),
    };
  }
}

/**
 * Checks the `outgoingAuth` block of a vMCP config file and resolves its strategies (reading the
 * environment variables that `...Env` fields name). Throws {@link OutgoingAuthConfigError} naming
 * the path of the first problem: a source other than `discovered` or `inline` (upstream falls back
 * with a warning; a typo there silently changes who gets which credentials, so it is refused), an
 * unknown key, a backend name that no workload can have, a bad strategy.
 *
 * @example
 * const auth = parseOutgoingAuth({
 *   source: 'discovered',
 *   backends: { fetch: { type: 'header_injection',
 *     headerInjection: { headerName: 'X-Api-Key', headerValueEnv: 'FETCH_KEY' } } },
 * });
 */
export function parseOutgoingAuth(
  value: unknown,
  options: ParseOutgoingAuthOptions = {},
): OutgoingAuth {
  const path = options.path ?? 'outgoingAuth';
  const env = options.env ?? process.env;
  const block = mappingAt(value, path, ['source', 'default', 'backends']);
  const source = sourceOf(block.values.source, childPath(path, 'source'));
  const rawDefault = block.values.default;
  const fallback =
    rawDefault === undefined || rawDefault === null
      ? undefined
      : parseAuthStrategy(rawDefault, childPath(path, 'default'), env);
  return new OutgoingAuth(source, fallback, backendsOf(block.values.backends, path, env));
}

/**
 * An `outgoingAuth` option as a checked {@link OutgoingAuth}: the spelled form is checked with
 * `process.env` (throwing {@link OutgoingAuthConfigError}), a checked one is taken as it is.
 */
export function toOutgoingAuth(
  config: OutgoingAuthConfig | OutgoingAuth | undefined,
): OutgoingAuth | undefined {
  if (config === undefined || config instanceof OutgoingAuth) return config;
  return parseOutgoingAuth(config);
}

function sourceOf(value: unknown, path: string): OutgoingAuthSource | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && (SOURCES as readonly string[]).includes(value)) {
    return value as OutgoingAuthSource;
  }
  const shown =
    typeof value === 'string' && looksLikeKeyword(value)
      ? ` ${JSON.stringify(value)}`
      : ` (${describeType(value)})`;
  throw new OutgoingAuthConfigError(
    path,
    `unknown source${shown}; must be discovered or inline (refused rather than guessed: it decides which credentials each backend gets)`,
  );
}

function backendsOf(
  value: unknown,
  parent: string,
  env: Environment,
): ReadonlyMap<string, ConfiguredStrategy> {
  const backends = new Map<string, ConfiguredStrategy>();
  if (value === undefined || value === null) return backends;
  const path = childPath(parent, 'backends');
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new OutgoingAuthConfigError(path, `must be a mapping, got ${describeType(value)}`);
  }
  for (const [name, strategy] of Object.entries(value as Record<string, unknown>)) {
    if (name.length > 253 || !RESOURCE_NAME.test(name)) {
      throw new OutgoingAuthConfigError(
        unknownKeyPath(path, name),
        'is not a Kubernetes resource name, so no backend can have it',
      );
    }
    const at = childPath(path, name);
    if (strategy === undefined || strategy === null) {
      throw new OutgoingAuthConfigError(at, 'has no strategy (give one, or remove the entry)');
    }
    backends.set(name, parseAuthStrategy(strategy, at, env));
  }
  return backends;
}
