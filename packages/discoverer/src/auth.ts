import type { AwsStsRoleMapping, BackendAuthStrategy } from '@vmcp/registry';
import { AuthResolutionError, InvalidObjectError } from './errors.js';
import { Fields, ownValue } from './fields.js';
import { classifyReadFailure, readFailureCause } from './read-failure.js';
import type { DiscoveryReader } from './reader.js';

/** A resolved strategy and the name of the MCPExternalAuthConfig it came from. */
export interface ResolvedAuth {
  strategy: BackendAuthStrategy;
  authConfigRef: string;
}

const TOKEN_TYPE_PREFIX = 'urn:ietf:params:oauth:token-type:';

/** Upstream's normalisation: the short names become the RFC 8693 URNs; others are kept. */
export function normalizeSubjectTokenType(value: string | undefined): string | undefined {
  if (value === 'access_token' || value === 'id_token' || value === 'jwt')
    return TOKEN_TYPE_PREFIX + value;
  return value;
}

/**
 * Resolves `spec.externalAuthConfigRef.name` of a workload: no ref (`undefined`) means no auth;
 * otherwise the MCPExternalAuthConfig is read, converted for its `spec.type`, and every Secret it
 * references is read. Any problem is an {@link AuthResolutionError}: a strategy is returned fully
 * resolved or not at all. A ref that is present but names nothing (`''`) is not "no auth": as
 * upstream, it is looked up, found missing, and the workload is not served.
 */
export async function resolveAuth(
  ref: string | undefined,
  namespace: string,
  reader: DiscoveryReader,
): Promise<ResolvedAuth | undefined> {
  if (ref === undefined) return undefined;
  const id = `${namespace}/${ref}`;
  if (ref === '') {
    throw new AuthResolutionError(
      'not-found',
      id,
      'externalAuthConfigRef.name is empty, so no auth config is found; name one or remove the reference',
    );
  }
  let config: unknown;
  try {
    config = await reader.getExternalAuthConfig(namespace, ref);
  } catch (error) {
    throw lookupFailed(id, 'could not be read', error);
  }
  if (config === undefined) {
    throw new AuthResolutionError('not-found', id, 'not found; create it or remove the reference');
  }
  const fields = new Fields('MCPExternalAuthConfig', config);
  try {
    const strategy = await convert(fields, namespace, id, reader);
    return { strategy, authConfigRef: ref };
  } catch (error) {
    if (error instanceof InvalidObjectError) {
      throw new AuthResolutionError('invalid-object', id, error.message, { cause: error });
    }
    throw error;
  }
}

/** What a strategy's converter reads with: its sub-config and the Secrets it references. */
interface ConverterInput {
  /** `spec.<type>`, required (upstream: a nil sub-config is an error). */
  part: Fields;
  /** The value of the Secret key a `{ name, key }` ref at `refPath` of `part` names. */
  secret(part: Fields, refPath: string): Promise<string>;
  /** As `secret`, or undefined when the ref is absent (not an error). */
  optionalSecret(part: Fields, refPath: string): Promise<string | undefined>;
  /** `namespace/name` of the auth config, for errors. */
  id: string;
}

type Converter = (input: ConverterInput) => BackendAuthStrategy | Promise<BackendAuthStrategy>;

/** The converters by `spec.type`, as upstream's registry of converters. */
const CONVERTERS: Readonly<Record<string, Converter>> = {
  unauthenticated: () => ({ type: 'unauthenticated' }),
  headerInjection: async ({ part, secret, id }) => {
    const headerName = part.requiredString('headerName');
    if (part.object('valueSecretRef') === undefined) {
      throw new AuthResolutionError(
        'missing-config',
        id,
        'spec.headerInjection.valueSecretRef is required',
      );
    }
    return {
      type: 'header_injection',
      headerName,
      headerValue: await secret(part, 'valueSecretRef'),
    };
  },
  tokenExchange: async ({ part, optionalSecret }) =>
    withoutUndefined({
      type: 'token_exchange' as const,
      tokenUrl: part.requiredString('tokenUrl'),
      clientId: part.string('clientId'),
      clientSecret: await optionalSecret(part, 'clientSecretRef'),
      audience: part.string('audience'),
      scopes: part.stringArray('scopes'),
      subjectTokenType: normalizeSubjectTokenType(part.string('subjectTokenType')),
      subjectProviderName: part.string('subjectProviderName'),
    }),
  upstreamInject: ({ part }) => ({
    type: 'upstream_inject',
    providerName: part.requiredString('providerName'),
  }),
  awsSts: ({ part }) =>
    withoutUndefined({
      type: 'aws_sts' as const,
      region: part.requiredString('region'),
      service: part.string('service'),
      fallbackRoleArn: part.string('fallbackRoleArn'),
      roleMappings: part
        .objectArray('roleMappings')
        ?.map((item, index) => roleMappingOf(part.nested(`roleMappings[${index}]`, item))),
      roleClaim: part.string('roleClaim'),
      sessionDuration: part.integer('sessionDuration'),
      sessionNameClaim: part.string('sessionNameClaim'),
      subjectProviderName: part.string('subjectProviderName'),
    }),
  xaa: async ({ part, optionalSecret }) =>
    withoutUndefined({
      type: 'xaa' as const,
      idpTokenUrl: part.requiredString('idpTokenUrl'),
      idpClientId: part.string('idpClientId'),
      idpClientSecret: await optionalSecret(part, 'idpClientSecretRef'),
      targetTokenUrl: part.requiredString('targetTokenUrl'),
      insecureTargetTokenUrl: part.boolean('insecureTargetTokenUrl'),
      targetClientId: part.string('targetClientId'),
      targetClientSecret: await optionalSecret(part, 'targetClientSecretRef'),
      targetAudience: part.string('targetAudience'),
      targetResource: part.string('targetResource'),
      scopes: part.stringArray('scopes'),
      subjectProviderName: part.string('subjectProviderName'),
      subjectTokenType: part.string('subjectTokenType'),
    }),
};

function roleMappingOf(mapping: Fields): AwsStsRoleMapping {
  return withoutUndefined({
    claim: mapping.string('claim'),
    matcher: mapping.string('matcher'),
    roleArn: mapping.requiredString('roleArn'),
    priority: mapping.integer('priority'),
  });
}

/** Converts an auth config for its `spec.type`, reading the Secrets it references. */
function convert(
  fields: Fields,
  namespace: string,
  id: string,
  reader: DiscoveryReader,
): BackendAuthStrategy | Promise<BackendAuthStrategy> {
  const type = fields.string('spec.type') ?? '';
  const converter = ownValue(CONVERTERS, type);
  if (converter === undefined) {
    if (type === 'obo') {
      throw new AuthResolutionError(
        'enterprise-required',
        id,
        'type obo requires the enterprise build; this backend is not served',
      );
    }
    throw new AuthResolutionError(
      'unsupported-type',
      id,
      `unsupported auth type ${JSON.stringify(type)}; supported: ${Object.keys(CONVERTERS).join(', ')}`,
    );
  }
  const secret = (part: Fields, refPath: string): Promise<string> =>
    readSecret(
      reader,
      namespace,
      part.requiredString(`${refPath}.name`),
      part.requiredString(`${refPath}.key`),
      id,
    );
  const optionalSecret = async (part: Fields, refPath: string) =>
    part.object(refPath) === undefined ? undefined : secret(part, refPath);
  return converter({ part: sectionOf(fields, type, id), secret, optionalSecret, id });
}

/** `spec.<type>` of an auth config; missing is an error, as upstream's nil sub-config. */
function sectionOf(fields: Fields, type: string, id: string): Fields {
  if (type === 'unauthenticated') return fields;
  const object = fields.object(`spec.${type}`);
  if (object === undefined) {
    throw new AuthResolutionError(
      'missing-config',
      id,
      `spec.type is ${type} but spec.${type} is missing`,
    );
  }
  return fields.nested(`spec.${type}`, object);
}

/** Reads one key of a Secret with a direct lookup. Errors name the Secret and key only. */
async function readSecret(
  reader: DiscoveryReader,
  namespace: string,
  name: string,
  key: string,
  authConfig: string,
): Promise<string> {
  let secret: unknown;
  try {
    secret = await reader.getSecret(namespace, name);
  } catch (error) {
    throw lookupFailed(authConfig, `Secret ${namespace}/${name} could not be read`, error);
  }
  if (secret === undefined) {
    throw new AuthResolutionError(
      'secret-not-found',
      authConfig,
      `Secret ${namespace}/${name} not found`,
    );
  }
  const encoded = ownValue(new Fields('Secret', secret).stringMap('data'), key);
  if (encoded === undefined) {
    throw new AuthResolutionError(
      'secret-key-missing',
      authConfig,
      `Secret ${namespace}/${name} has no key ${JSON.stringify(key)}`,
    );
  }
  const value = Buffer.from(encoded, 'base64').toString('utf8');
  if (value === '') {
    throw new AuthResolutionError(
      'secret-value-empty',
      authConfig,
      `Secret ${namespace}/${name} key ${JSON.stringify(key)} is empty`,
    );
  }
  return value;
}

function withoutUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[])
    if (value[key] === undefined) delete value[key];
  return value;
}

/** A failed read of an auth config or Secret, sorted transient or definitive. */
function lookupFailed(authConfig: string, what: string, error: unknown): AuthResolutionError {
  return new AuthResolutionError('lookup-failed', authConfig, `${what}${readFailureCause(error)}`, {
    cause: error,
    transient: classifyReadFailure(error) === 'transient',
  });
}
