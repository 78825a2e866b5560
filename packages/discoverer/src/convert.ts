import type { Backend, BackendHealthStatus, HeaderForward, TransportType } from '@vmcp/registry';
import { resolveAuth } from './auth.js';
import { AuthResolutionError, InvalidObjectError, WorkloadNotFoundError } from './errors.js';
import { Fields, ownValue, setOwn } from './fields.js';
import { classifyReadFailure, readFailureCause } from './read-failure.js';
import {
  type DiscoveryReader,
  type KubeObjectLike,
  WORKLOAD_KINDS,
  type WorkloadKind,
} from './reader.js';

/** Why a workload is not a backend (yet). */
export type SkipReason =
  | 'no-url'
  | 'invalid-url'
  | 'other-group'
  | 'auth-unresolved'
  | 'entry-not-valid'
  | 'ca-bundle-unresolved'
  | 'invalid-object';

/**
 * The outcome of converting one workload, following upstream's nil-versus-error contract, with
 * upstream's failed lookup split by what the failure says (see `classifyReadFailure`):
 * - `backend`: serve it;
 * - `skip` (upstream's nil, nil): not a backend now; remove it, do not retry (the next change of
 *   the workload or what it references will trigger a new conversion);
 * - `error` (upstream's nil, err): a lookup failed for a definitive reason (a 4xx other than
 *   401 and 403) or the conversion itself failed; remove it and retry with backoff;
 * - `unavailable`: a lookup failed for a transient reason (the API server down, slow or
 *   refusing with 429/5xx, or refusing the reader's own credentials or permission with 401/403):
 *   nothing is known, so a backend already served is kept exactly as it
 *   is, a name not yet served stays absent, and the lookup is retried with backoff. Upstream reads
 *   from its caches after sync, so an outage never fails its conversions; this is the same
 *   guarantee for the reads that go to the API server here.
 */
export type ConversionOutcome =
  | { kind: 'backend'; backend: Backend }
  | { kind: 'skip'; reason: SkipReason; message: string }
  | { kind: 'error'; error: Error }
  | { kind: 'unavailable'; error: Error };

/** A pino-compatible subset; silent when absent. */
export interface DiscoveryLogger {
  warn(fields: Record<string, unknown>, message?: string): void;
}

/** What a conversion needs besides the object. */
export interface ConversionContext {
  reader: DiscoveryReader;
  /**
   * When set, a workload of another group is skipped with `other-group`, and a backend's
   * `metadata.group` is this group (over an annotation of that name, as upstream's discovery).
   */
  group?: string;
  logger?: DiscoveryLogger;
}

const skip = (reason: SkipReason, message: string): ConversionOutcome => ({
  kind: 'skip',
  reason,
  message,
});

const SYSTEM_ANNOTATION_PREFIXES = [
  'kubectl.kubernetes.io/',
  'kubernetes.io/',
  'deployment.kubernetes.io/',
  'k8s.io/',
];

/** The group a workload belongs to: `spec.groupRef.name`, or the legacy bare-string form. */
export function workloadGroup(object: unknown, kind = 'workload'): string | undefined {
  return groupOf(new Fields(kind, object));
}

function groupOf(fields: Fields): string | undefined {
  const ref = fields.value('spec.groupRef');
  if (typeof ref === 'string') return ref || undefined;
  return fields.string('spec.groupRef.name') || undefined;
}

/** `spec.externalAuthConfigRef.name` of a workload, if any. */
export function externalAuthConfigName(object: unknown, kind = 'workload'): string | undefined {
  return new Fields(kind, object).string('spec.externalAuthConfigRef.name') || undefined;
}

/** The ConfigMap an MCPServerEntry reads its CA bundle from, if any. */
export function caBundleConfigMapName(entry: unknown): string | undefined {
  return (
    new Fields('MCPServerEntry', entry).string('spec.caBundleRef.configMapRef.name') || undefined
  );
}

/**
 * The header-forward identifier upstream derives for a secret-backed header:
 * `HEADER_FORWARD_<HEADER>_<OWNER>`, both upper-cased with `-` and every other character outside
 * `[A-Z0-9_]` replaced by `_`. The runtime reads the value from `TOOLHIVE_SECRET_<identifier>`.
 */
export function headerForwardIdentifier(headerName: string, ownerName: string): string {
  // Per code point, as Go's strings.Map over runes: a non-ASCII letter stays one `_` even where
  // JavaScript's toUpperCase would expand it (ß → SS).
  const normalize = (text: string) =>
    Array.from(text, (ch) =>
      /[a-z]/.test(ch) ? ch.toUpperCase() : /[A-Z0-9_]/.test(ch) ? ch : '_',
    ).join('');
  return `HEADER_FORWARD_${normalize(headerName)}_${normalize(ownerName)}`;
}

function parseTransport(value: string | undefined): string | undefined {
  const lower = value?.toLowerCase();
  return lower === 'stdio' ||
    lower === 'sse' ||
    lower === 'streamable-http' ||
    lower === 'inspector'
    ? lower
    : undefined;
}

function asTransportType(value: string): TransportType {
  return value === 'streamable-http' || value === 'sse' || value === 'stdio' ? value : 'unknown';
}

function transportOf(fields: Fields, allowStdio: boolean, logger?: DiscoveryLogger): TransportType {
  const raw = fields.string('spec.transport');
  let parsed = parseTransport(raw);
  if (parsed === undefined || (!allowStdio && (parsed === 'stdio' || parsed === 'inspector'))) {
    logger?.warn(
      { kind: fields.kind, object: fields.id, transport: raw },
      'unknown transport; assuming streamable-http',
    );
    parsed = 'streamable-http';
  }
  if (!allowStdio) return asTransportType(parsed);
  // The transport clients use: for stdio the proxy in front of it, else the transport itself.
  const effective =
    parsed === 'stdio' ? fields.string('spec.proxyMode') || 'streamable-http' : parsed;
  return asTransportType(effective || parsed || 'unknown');
}

const isSystemAnnotation = (key: string): boolean => {
  for (const prefix of SYSTEM_ANNOTATION_PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
};

/**
 * The backend's metadata: the workload's annotations (system prefixes left out), then the system
 * keys, which override annotations of the same name: `tool_type`, `workload_type`,
 * `workload_status`, `extra`, `namespace`, and `group` (the watched group, when the conversion is
 * for one: upstream's discovery sets it after conversion, over a user annotation named `group`).
 */
function metadataOf(
  fields: Fields,
  common: Common,
  workloadType: string,
  extra?: Record<string, string>,
): Record<string, string> {
  const metadata: Record<string, string> = {};
  const annotations = fields.stringMap('metadata.annotations');
  for (const key in annotations) {
    if (!isSystemAnnotation(key)) setOwn(metadata, key, annotations[key] as string);
  }
  metadata.tool_type = 'mcp';
  metadata.workload_type = workloadType;
  metadata.workload_status = common.phase;
  if (extra !== undefined) Object.assign(metadata, extra);
  const namespace = fields.string('metadata.namespace');
  if (namespace) metadata.namespace = namespace;
  if (common.group !== undefined) metadata.group = common.group;
  return metadata;
}

function validUrl(url: string): boolean {
  // The common spelling needs no URL object: the scheme is known, only the rest must parse.
  if (url.startsWith('http://') || url.startsWith('https://')) return URL.canParse(url);
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}

interface Common {
  name: string;
  namespace: string;
  phase: string;
  /** The group the conversion is for (`ConversionContext.group`), if any. */
  group: string | undefined;
}

function commonOf(fields: Fields, context: ConversionContext): Common | ConversionOutcome {
  const name = fields.requiredString('metadata.name');
  const namespace = fields.string('metadata.namespace') ?? '';
  if (context.group !== undefined) {
    const group = groupOf(fields);
    if (group !== context.group) {
      return skip(
        'other-group',
        `${fields.kind} ${fields.id} is in group ${JSON.stringify(group ?? '')}, not ${JSON.stringify(context.group)}`,
      );
    }
  }
  return { name, namespace, phase: fields.string('status.phase') ?? '', group: context.group };
}

type AuthPart = Pick<Backend, 'authConfig' | 'authConfigRef'>;

/**
 * Completes a conversion with the workload's auth: at once without an auth ref (most workloads:
 * no promise to wait for), after resolving it otherwise. Only an absent ref means no auth: a ref
 * whose name is empty or missing is resolved, and fails closed, as upstream.
 */
function withAuth(
  fields: Fields,
  namespace: string,
  context: ConversionContext,
  build: (auth: AuthPart) => ConversionOutcome,
): ConversionOutcome | Promise<ConversionOutcome> {
  if (fields.value('spec.externalAuthConfigRef') === undefined) return build({});
  const ref = fields.string('spec.externalAuthConfigRef.name') ?? '';
  return authOf(fields, ref, namespace, context).then((auth) =>
    isOutcome(auth) ? auth : build(auth),
  );
}

/** The outcome of a failed read: `unavailable` when transient, `error` when definitive. */
function readFailed(error: unknown, message: string): ConversionOutcome {
  const failure = new Error(`${message}${readFailureCause(error)}`, { cause: error });
  return classifyReadFailure(error) === 'transient'
    ? { kind: 'unavailable', error: failure }
    : { kind: 'error', error: failure };
}

async function authOf(
  fields: Fields,
  ref: string,
  namespace: string,
  context: ConversionContext,
): Promise<AuthPart | ConversionOutcome> {
  try {
    const resolved = await resolveAuth(ref, namespace, context.reader);
    return resolved === undefined
      ? {}
      : { authConfig: resolved.strategy, authConfigRef: resolved.authConfigRef };
  } catch (error) {
    // A failed lookup is retried: kept meanwhile when it was transient, removed when definitive.
    // Everything else needs a change first.
    if (error instanceof AuthResolutionError && error.reason === 'lookup-failed') {
      return error.transient ? { kind: 'unavailable', error } : { kind: 'error', error };
    }
    if (error instanceof AuthResolutionError) {
      return skip('auth-unresolved', `${fields.kind} ${fields.id}: ${error.message}`);
    }
    throw error;
  }
}

/** Runs a conversion, turning a wrong shape into a `skip` and anything unexpected into `error`. */
function guarded(
  run: () => ConversionOutcome | Promise<ConversionOutcome>,
): Promise<ConversionOutcome> {
  try {
    const outcome = run();
    return outcome instanceof Promise ? outcome.catch(failed) : Promise.resolve(outcome);
  } catch (error) {
    return Promise.resolve(failed(error));
  }
}

function failed(error: unknown): ConversionOutcome {
  if (error instanceof InvalidObjectError) return skip('invalid-object', error.message);
  return { kind: 'error', error: error instanceof Error ? error : new Error(String(error)) };
}

const isOutcome = (value: unknown): value is ConversionOutcome =>
  typeof value === 'object' && value !== null && 'kind' in value;

const WORKLOAD_HEALTH: Record<string, BackendHealthStatus> = {
  Ready: 'healthy',
  Failed: 'unhealthy',
  Terminating: 'unhealthy',
  Stopped: 'unhealthy',
};
const PROXY_HEALTH: Record<string, BackendHealthStatus> = {
  Ready: 'healthy',
  Failed: 'unhealthy',
  Terminating: 'unhealthy',
};
const ENTRY_HEALTH: Record<string, BackendHealthStatus> = { Valid: 'healthy', Failed: 'unhealthy' };

/** Health of an MCPServer from `status.phase`; Pending and anything else are `unknown`. */
export const mcpServerHealth = (phase: string): BackendHealthStatus =>
  ownValue(WORKLOAD_HEALTH, phase) ?? 'unknown';
/** Health of an MCPRemoteProxy from `status.phase`. */
export const mcpRemoteProxyHealth = (phase: string): BackendHealthStatus =>
  ownValue(PROXY_HEALTH, phase) ?? 'unknown';
/** Health of an MCPServerEntry from `status.phase`. */
export const mcpServerEntryHealth = (phase: string): BackendHealthStatus =>
  ownValue(ENTRY_HEALTH, phase) ?? 'unknown';

/** What differs between the two operator-managed kinds, whose URL comes from `status.url`. */
interface OperatorWorkload {
  kind: 'MCPServer' | 'MCPRemoteProxy';
  /** MCPServer: stdio with a proxy mode in front; MCPRemoteProxy: network transports only. */
  allowStdio: boolean;
  workloadType: string;
  health: (phase: string) => BackendHealthStatus;
  extraMetadata?: (fields: Fields) => Record<string, string>;
}

function operatorWorkloadToBackend(
  workload: OperatorWorkload,
  object: unknown,
  context: ConversionContext,
): Promise<ConversionOutcome> {
  return guarded(() => {
    const fields = new Fields(workload.kind, object);
    const common = commonOf(fields, context);
    if (isOutcome(common)) return common;
    const transportType = transportOf(fields, workload.allowStdio, context.logger);
    const url = fields.string('status.url') ?? '';
    if (url === '') return skip('no-url', `${workload.kind} ${fields.id} has no status.url yet`);
    if (!validUrl(url)) {
      return skip('invalid-url', `${workload.kind} ${fields.id}: status.url is not an http(s) URL`);
    }
    const metadata = metadataOf(
      fields,
      common,
      workload.workloadType,
      workload.extraMetadata?.(fields),
    );
    return withAuth(fields, common.namespace, context, (auth) => ({
      kind: 'backend',
      backend: {
        id: common.name,
        name: common.name,
        baseUrl: url,
        transportType,
        healthStatus: workload.health(common.phase),
        ...auth,
        metadata,
      },
    }));
  });
}

const MCP_SERVER: OperatorWorkload = {
  kind: 'MCPServer',
  allowStdio: true,
  workloadType: 'mcp_server',
  health: mcpServerHealth,
};

const MCP_REMOTE_PROXY: OperatorWorkload = {
  kind: 'MCPRemoteProxy',
  allowStdio: false,
  workloadType: 'remote_proxy',
  health: mcpRemoteProxyHealth,
  extraMetadata: (fields) => ({ remote_url: fields.string('spec.remoteUrl') ?? '' }),
};

/** MCPServer → Backend: URL from `status.url` only (never a guess), auth from its ref. */
export function mcpServerToBackend(
  object: unknown,
  context: ConversionContext,
): Promise<ConversionOutcome> {
  return operatorWorkloadToBackend(MCP_SERVER, object, context);
}

/** MCPRemoteProxy → Backend: as MCPServer, without proxy mode, with `remote_url` metadata. */
export function mcpRemoteProxyToBackend(
  object: unknown,
  context: ConversionContext,
): Promise<ConversionOutcome> {
  return operatorWorkloadToBackend(MCP_REMOTE_PROXY, object, context);
}

/**
 * MCPServerEntry → Backend: only a `Valid` entry qualifies; URL from `spec.remoteUrl`; CA bundle
 * from the referenced ConfigMap key (default `ca.crt`); header forwarding as identifiers.
 */
export function mcpServerEntryToBackend(
  object: unknown,
  context: ConversionContext,
): Promise<ConversionOutcome> {
  return guarded(async () => {
    const fields = new Fields('MCPServerEntry', object);
    const common = commonOf(fields, context);
    if (isOutcome(common)) return common;
    if (common.phase !== 'Valid') {
      return skip(
        'entry-not-valid',
        `MCPServerEntry ${fields.id} is in phase ${JSON.stringify(common.phase)}, not Valid`,
      );
    }
    const transportType = transportOf(fields, false, context.logger);
    const url = fields.string('spec.remoteUrl') ?? '';
    if (url === '') return skip('no-url', `MCPServerEntry ${fields.id} has no spec.remoteUrl`);
    if (!validUrl(url))
      return skip(
        'invalid-url',
        `MCPServerEntry ${fields.id}: spec.remoteUrl is not an http(s) URL`,
      );
    const metadata = metadataOf(fields, common, 'server_entry', { remote_url: url });

    const caBundle = await caBundleOf(fields, common.namespace, context);
    if (isOutcome(caBundle)) return caBundle;
    const caBundleData = caBundle.data;

    return withAuth(fields, common.namespace, context, (auth) => {
      const headerForward = headerForwardOf(fields, common.name);
      return {
        kind: 'backend',
        backend: {
          id: common.name,
          name: common.name,
          baseUrl: url,
          transportType,
          type: 'entry',
          ...(caBundleData === undefined ? {} : { caBundleData }),
          healthStatus: mcpServerEntryHealth(common.phase),
          ...auth,
          ...(headerForward === undefined ? {} : { headerForward }),
          metadata,
        },
      };
    });
  });
}

/**
 * The entry's CA bundle: none without `spec.caBundleRef.configMapRef` (`caBundleRef: {}` too, as
 * upstream and its operator); otherwise the key (default `ca.crt`) of that ConfigMap, read when
 * the entry is reconciled. A missing ConfigMap or key keeps the entry out.
 */
async function caBundleOf(
  fields: Fields,
  namespace: string,
  context: ConversionContext,
): Promise<{ data: string | undefined } | ConversionOutcome> {
  if (fields.object('spec.caBundleRef.configMapRef') === undefined) return { data: undefined };
  const configMapName = fields.string('spec.caBundleRef.configMapRef.name') ?? '';
  const where = `MCPServerEntry ${fields.id}: ConfigMap ${namespace}/${configMapName}`;
  if (configMapName === '') {
    return skip(
      'ca-bundle-unresolved',
      `MCPServerEntry ${fields.id}: spec.caBundleRef.configMapRef.name is empty`,
    );
  }
  const key = fields.string('spec.caBundleRef.configMapRef.key') || 'ca.crt';
  let configMap: KubeObjectLike | undefined;
  try {
    configMap = await context.reader.getConfigMap(namespace, configMapName);
  } catch (error) {
    return readFailed(error, `${where} could not be read`);
  }
  if (configMap === undefined) return skip('ca-bundle-unresolved', `${where} not found`);
  const data = ownValue(new Fields('ConfigMap', configMap).stringMap('data'), key);
  if (data === undefined) {
    return skip('ca-bundle-unresolved', `${where} has no key ${JSON.stringify(key)}`);
  }
  return { data };
}

function headerForwardOf(fields: Fields, owner: string): HeaderForward | undefined {
  if (fields.object('spec.headerForward') === undefined) return undefined;
  const plaintext = fields.stringMap('spec.headerForward.addPlaintextHeaders');
  const fromSecret: Record<string, string> = {};
  const items = fields.objectArray('spec.headerForward.addHeadersFromSecret') ?? [];
  items.forEach((item, index) => {
    const header = fields.nested(`spec.headerForward.addHeadersFromSecret[${index}]`, item);
    if (header.object('valueSecretRef') === undefined) return;
    const headerName = header.requiredString('headerName');
    setOwn(fromSecret, headerName, headerForwardIdentifier(headerName, owner));
  });
  const result: HeaderForward = {};
  if (plaintext !== undefined && Object.keys(plaintext).length > 0)
    result.addPlaintextHeaders = plaintext;
  if (Object.keys(fromSecret).length > 0) result.addHeadersFromSecret = fromSecret;
  return Object.keys(result).length > 0 ? result : undefined;
}

const CONVERTERS: Record<
  WorkloadKind,
  (object: unknown, context: ConversionContext) => Promise<ConversionOutcome>
> = {
  MCPServer: mcpServerToBackend,
  MCPRemoteProxy: mcpRemoteProxyToBackend,
  MCPServerEntry: mcpServerEntryToBackend,
};

/** Converts a workload of the given kind. */
export function toBackend(
  kind: WorkloadKind,
  object: unknown,
  context: ConversionContext,
): Promise<ConversionOutcome> {
  const convert = ownValue(CONVERTERS, kind);
  if (convert === undefined) {
    return Promise.resolve({
      kind: 'error',
      error: new Error(`unknown workload kind ${JSON.stringify(kind)}`),
    });
  }
  return convert(object, context);
}

/** A workload reference, as `listWorkloadsInGroup` returns it. */
export interface WorkloadRef {
  name: string;
  type: WorkloadKind;
}

/**
 * Upstream's `GetWorkloadAsVMCPBackend`: reads the workload and converts it. A missing workload
 * is an `error` outcome (`MCPServer NAME not found`), as upstream.
 */
export async function getWorkloadAsBackend(
  workload: WorkloadRef,
  namespace: string,
  context: ConversionContext,
): Promise<ConversionOutcome> {
  if (!WORKLOAD_KINDS.includes(workload.type)) {
    return {
      kind: 'error',
      error: new Error(`unknown workload type ${JSON.stringify(workload.type)}`),
    };
  }
  let object: KubeObjectLike | undefined;
  try {
    object = await context.reader.getWorkload(workload.type, namespace, workload.name);
  } catch (error) {
    return readFailed(error, `${workload.type} ${namespace}/${workload.name} could not be read`);
  }
  if (object === undefined)
    return { kind: 'error', error: new WorkloadNotFoundError(workload.type, workload.name) };
  return toBackend(workload.type, object, context);
}

/**
 * The workloads of every kind in the namespace whose group (`spec.groupRef.name`, compared by
 * name only) is `group`. Objects whose groupRef has a wrong shape are left out.
 */
export async function listWorkloadsInGroup(
  reader: DiscoveryReader,
  namespace: string,
  group: string,
): Promise<WorkloadRef[]> {
  const found: WorkloadRef[] = [];
  for (const kind of WORKLOAD_KINDS) {
    for (const object of await reader.listWorkloads(kind, namespace)) {
      let inGroup = false;
      try {
        inGroup = workloadGroup(object, kind) === group;
      } catch {
        inGroup = false;
      }
      const name = object.metadata?.name;
      if (inGroup && typeof name === 'string' && name !== '') found.push({ name, type: kind });
    }
  }
  return found;
}

/** One workload's outcome in {@link discover}. */
export interface DiscoveredWorkload extends WorkloadRef {
  /** Absent when the workload is shadowed. */
  outcome?: ConversionOutcome;
  /** Set when a kind of higher precedence has the same name: this one is never converted. */
  shadowedBy?: WorkloadKind;
}

/**
 * Static discovery: every backend of the group in the namespace, with each workload's outcome
 * (for an `explain`). Where two kinds share a name, upstream's precedence applies (MCPServer,
 * MCPRemoteProxy, MCPServerEntry): the later ones are reported as skipped, shadowed.
 */
export async function discover(
  reader: DiscoveryReader,
  namespace: string,
  group: string,
  logger?: DiscoveryLogger,
): Promise<{ backends: Backend[]; workloads: DiscoveredWorkload[] }> {
  const context: ConversionContext = { reader, group, ...(logger ? { logger } : {}) };
  const workloads: DiscoveredWorkload[] = [];
  const backends: Backend[] = [];
  const owner = new Map<string, WorkloadKind>();
  // Listed in precedence order, so the first kind seen for a name is the one that counts.
  for (const ref of await listWorkloadsInGroup(reader, namespace, group)) {
    const shadowedBy = owner.get(ref.name);
    if (shadowedBy !== undefined) {
      workloads.push({ ...ref, shadowedBy });
      continue;
    }
    owner.set(ref.name, ref.type);
    const outcome = await getWorkloadAsBackend(ref, namespace, context);
    workloads.push({ ...ref, outcome });
    if (outcome.kind === 'backend') backends.push(outcome.backend);
  }
  return { backends: backends.sort((a, b) => (a.id < b.id ? -1 : 1)), workloads };
}
