import { normalizeSubjectTokenType } from '@vmcp/discoverer';
import type { AwsStsRoleMapping, BackendAuthStrategy } from '@vmcp/registry';
import {
  childPath,
  describeType,
  type Environment,
  looksLikeKeyword,
  type Mapping,
  mappingAt,
  OutgoingAuthConfigError,
  optionalBoolean,
  optionalInteger,
  optionalMappingList,
  optionalString,
  optionalStringList,
  requiredString,
  secretValue,
  urlString,
} from './config-values.js';

/** The fields `tokenExchange` and `obo` share: an OAuth client asking a token endpoint. */
export interface OAuthClientConfig {
  tokenUrl: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretEnv?: string;
  audience?: string;
  scopes?: string[];
}

/**
 * One outgoing auth strategy as a vMCP config file spells it (upstream's `BackendAuthStrategy`,
 * `pkg/vmcp/auth/types`): a `type` and the section of that type. Values given inline are secret
 * material; each `...Env` field names an environment variable to read the value from instead.
 */
export type AuthStrategyConfig =
  | { type: 'unauthenticated' }
  | {
      type: 'header_injection';
      headerInjection: { headerName: string; headerValue?: string; headerValueEnv?: string };
    }
  | {
      type: 'token_exchange';
      tokenExchange: OAuthClientConfig & {
        subjectTokenType?: string;
        subjectProviderName?: string;
      };
    }
  | { type: 'upstream_inject'; upstreamInject: { providerName?: string } }
  | {
      type: 'aws_sts';
      awsSts: {
        region: string;
        service?: string;
        fallbackRoleArn?: string;
        roleMappings?: { claim?: string; matcher?: string; roleArn: string; priority?: number }[];
        roleClaim?: string;
        sessionDuration?: number;
        sessionNameClaim?: string;
        subjectProviderName?: string;
      };
    }
  | {
      type: 'obo';
      obo: OAuthClientConfig & { subjectTokenProviderName?: string; cacheSkewSeconds?: number };
    }
  | {
      type: 'xaa';
      xaa: {
        idpTokenUrl: string;
        idpClientId?: string;
        idpClientSecret?: string;
        idpClientSecretEnv?: string;
        targetTokenUrl: string;
        insecureTargetTokenUrl?: boolean;
        targetClientId?: string;
        targetClientSecret?: string;
        targetClientSecretEnv?: string;
        targetAudience?: string;
        targetResource?: string;
        scopes?: string[];
        subjectProviderName?: string;
      };
    };

/** A strategy `type` of the file. */
export type AuthStrategyType = AuthStrategyConfig['type'];

/**
 * What a configured strategy gives the backends it applies to: a strategy of `@vmcp/registry`,
 * fully resolved (environment variables read), or the reason they are not served. `path` is where
 * it is in the file.
 */
export type ConfiguredStrategy =
  | { readonly path: string; readonly strategy: BackendAuthStrategy }
  | { readonly path: string; readonly unservable: string };

type Converter = (
  section: Mapping,
  env: Environment,
) => BackendAuthStrategy | { unservable: string };

/** The upstream name the runtime uses when `upstreamInject.providerName` is empty. */
const DEFAULT_UPSTREAM_PROVIDER = 'default';

/** A header field name (RFC 9110 `token`). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The fields `tokenExchange` and `obo` share: an OAuth client asking a token endpoint. */
const CLIENT_KEYS = [
  'tokenUrl',
  'clientId',
  'clientSecret',
  'clientSecretEnv',
  'audience',
  'scopes',
];

/** Per type: the section's key in the file, its known keys, and its conversion. */
const TYPES: Readonly<
  Record<AuthStrategyType, { section?: string; keys: readonly string[]; convert: Converter }>
> = {
  unauthenticated: { keys: [], convert: () => ({ type: 'unauthenticated' }) },
  header_injection: {
    section: 'headerInjection',
    keys: ['headerName', 'headerValue', 'headerValueEnv'],
    convert: headerInjection,
  },
  token_exchange: {
    section: 'tokenExchange',
    keys: [...CLIENT_KEYS, 'subjectTokenType', 'subjectProviderName'],
    convert: tokenExchange,
  },
  upstream_inject: {
    section: 'upstreamInject',
    keys: ['providerName'],
    convert: (section) => ({
      type: 'upstream_inject',
      providerName: optionalString(section, 'providerName') ?? DEFAULT_UPSTREAM_PROVIDER,
    }),
  },
  aws_sts: {
    section: 'awsSts',
    keys: [
      'region',
      'service',
      'fallbackRoleArn',
      'roleMappings',
      'roleClaim',
      'sessionDuration',
      'sessionNameClaim',
      'subjectProviderName',
    ],
    convert: awsSts,
  },
  obo: {
    section: 'obo',
    keys: [...CLIENT_KEYS, 'subjectTokenProviderName', 'cacheSkewSeconds'],
    convert: obo,
  },
  xaa: {
    section: 'xaa',
    keys: [
      'idpTokenUrl',
      'idpClientId',
      'idpClientSecret',
      'idpClientSecretEnv',
      'targetTokenUrl',
      'insecureTargetTokenUrl',
      'targetClientId',
      'targetClientSecret',
      'targetClientSecretEnv',
      'targetAudience',
      'targetResource',
      'scopes',
      'subjectProviderName',
    ],
    convert: xaa,
  },
};

/** Every strategy type the file may name, in a stable order. */
export const AUTH_STRATEGY_CONFIG_TYPES: readonly AuthStrategyType[] = Object.freeze(
  Object.keys(TYPES) as AuthStrategyType[],
);

const SECTIONS = AUTH_STRATEGY_CONFIG_TYPES.flatMap((type) => TYPES[type].section ?? []);

/**
 * Checks one strategy of the file at `path` and resolves it: environment variables named by
 * `...Env` fields are read from `env` now. Throws {@link OutgoingAuthConfigError} naming the path
 * of the first problem: not a mapping, an unknown or missing `type`, a missing section, the section
 * of another type, an unknown key, a field of the wrong type, an inline value and its `...Env`
 * both set, an unset variable.
 */
export function parseAuthStrategy(
  value: unknown,
  path: string,
  env: Environment,
): ConfiguredStrategy {
  const top = mappingAt(value, path, ['type', ...SECTIONS]);
  const type = strategyType(top);
  const { section, keys, convert } = TYPES[type];
  for (const other of SECTIONS) {
    if (other !== section && top.values[other] !== undefined && top.values[other] !== null) {
      throw new OutgoingAuthConfigError(childPath(path, other), `is set, but type is ${type}`);
    }
  }
  let part: Mapping = { path, values: {} };
  if (section !== undefined) {
    const raw = top.values[section];
    if (raw === undefined || raw === null) {
      throw new OutgoingAuthConfigError(childPath(path, section), `is required for type ${type}`);
    }
    part = mappingAt(raw, childPath(path, section), keys);
  }
  const converted = convert(part, env);
  return 'unservable' in converted
    ? { path, unservable: converted.unservable }
    : { path, strategy: converted };
}

function strategyType(top: Mapping): AuthStrategyType {
  const path = childPath(top.path, 'type');
  const type = top.values.type;
  if (type === undefined || type === null) throw new OutgoingAuthConfigError(path, 'is required');
  if (typeof type !== 'string') {
    throw new OutgoingAuthConfigError(path, `must be a string, got ${describeType(type)}`);
  }
  if (!Object.hasOwn(TYPES, type)) {
    // The value is named only when it looks like a type: a mis-indented secret must not be echoed.
    const shown = looksLikeKeyword(type) ? ` ${JSON.stringify(type)}` : '';
    throw new OutgoingAuthConfigError(
      path,
      `unknown strategy type${shown}; known: ${AUTH_STRATEGY_CONFIG_TYPES.join(', ')}`,
    );
  }
  return type as AuthStrategyType;
}

function headerInjection(section: Mapping, env: Environment): BackendAuthStrategy {
  const headerName = requiredString(section, 'headerName');
  if (!HEADER_NAME.test(headerName)) {
    throw new OutgoingAuthConfigError(
      childPath(section.path, 'headerName'),
      'is not a valid HTTP header name',
    );
  }
  const headerValue = secretValue(section, 'headerValue', env, { required: true }) as string;
  if (/[\r\n\0]/.test(headerValue)) {
    throw new OutgoingAuthConfigError(
      section.path,
      'the header value must not contain a line break or a NUL character',
    );
  }
  return { type: 'header_injection', headerName, headerValue };
}

/** The {@link CLIENT_KEYS} of a section, checked (the secret read from its variable if named). */
function oauthClient(section: Mapping, env: Environment) {
  return {
    tokenUrl: urlString(section, 'tokenUrl'),
    clientId: optionalString(section, 'clientId'),
    clientSecret: secretValue(section, 'clientSecret', env, { required: false }),
    audience: optionalString(section, 'audience'),
    scopes: optionalStringList(section, 'scopes'),
  };
}

function tokenExchange(section: Mapping, env: Environment): BackendAuthStrategy {
  return withoutUndefined({
    type: 'token_exchange' as const,
    ...oauthClient(section, env),
    subjectTokenType: normalizeSubjectTokenType(optionalString(section, 'subjectTokenType')),
    subjectProviderName: optionalString(section, 'subjectProviderName'),
  });
}

function awsSts(section: Mapping): BackendAuthStrategy {
  return withoutUndefined({
    type: 'aws_sts' as const,
    region: requiredString(section, 'region'),
    service: optionalString(section, 'service'),
    fallbackRoleArn: optionalString(section, 'fallbackRoleArn'),
    roleMappings: optionalMappingList(section, 'roleMappings', roleMapping),
    roleClaim: optionalString(section, 'roleClaim'),
    // Upstream's field is an int32 of seconds.
    sessionDuration: optionalInteger(section, 'sessionDuration', { min: 0, max: 2 ** 31 - 1 }),
    sessionNameClaim: optionalString(section, 'sessionNameClaim'),
    subjectProviderName: optionalString(section, 'subjectProviderName'),
  });
}

function roleMapping(item: unknown, path: string): AwsStsRoleMapping {
  const mapping = mappingAt(item, path, ['claim', 'matcher', 'roleArn', 'priority']);
  return withoutUndefined({
    claim: optionalString(mapping, 'claim'),
    matcher: optionalString(mapping, 'matcher'),
    roleArn: requiredString(mapping, 'roleArn'),
    priority: optionalInteger(mapping, 'priority', {
      min: Number.MIN_SAFE_INTEGER,
      max: Number.MAX_SAFE_INTEGER,
    }),
  });
}

/**
 * `obo` is checked in full, environment variables included, but has no strategy in the open-source
 * build (upstream's returns "enterprise required" for it, and the discoverer keeps a workload whose
 * auth config is `obo` out): a backend it applies to is not served.
 */
function obo(section: Mapping, env: Environment): { unservable: string } {
  oauthClient(section, env);
  optionalString(section, 'subjectTokenProviderName');
  optionalInteger(section, 'cacheSkewSeconds', { min: 0, max: 2 ** 31 - 1 });
  return {
    unservable:
      'type obo needs the enterprise build of vMCP (upstream: enterprise required); the backend is not served',
  };
}

function xaa(section: Mapping, env: Environment): BackendAuthStrategy {
  return withoutUndefined({
    type: 'xaa' as const,
    idpTokenUrl: urlString(section, 'idpTokenUrl'),
    idpClientId: optionalString(section, 'idpClientId'),
    idpClientSecret: secretValue(section, 'idpClientSecret', env, { required: false }),
    targetTokenUrl: urlString(section, 'targetTokenUrl'),
    insecureTargetTokenUrl: optionalBoolean(section, 'insecureTargetTokenUrl'),
    targetClientId: optionalString(section, 'targetClientId'),
    targetClientSecret: secretValue(section, 'targetClientSecret', env, { required: false }),
    targetAudience: optionalString(section, 'targetAudience'),
    targetResource: optionalString(section, 'targetResource'),
    scopes: optionalStringList(section, 'scopes'),
    subjectProviderName: optionalString(section, 'subjectProviderName'),
  });
}

function withoutUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[])
    if (value[key] === undefined) delete value[key];
  return value;
}
