import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  checkDuration,
  type DurationRange,
  DurationRangeError,
  formatDuration,
} from '@vmcp/kube-runtime';
import {
  DEFAULT_INITIAL_SYNC_TIMEOUT_MS,
  DEFAULT_READ_TIMEOUT_MS,
  DEFAULT_RESYNC_PERIOD_MS,
  DEFAULT_SECRET_REFRESH_PERIOD_MS,
  DEFAULT_WORKERS,
  DURATION_RANGES,
  WORKERS_RANGE,
} from '@vmcp/reconciler';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_STREAMS,
  HEARTBEAT_RANGE,
  MAX_STREAMS_LIMIT,
} from './http.js';

/** A mistake in the command line or the environment: one clear line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The sidecar's time in-flight reconciles get at shutdown, unless told otherwise: 10 s. */
export const DEFAULT_GRACE_PERIOD_MS = 10_000;

/**
 * The range of each duration flag (and of the `startSidecar` option it sets): the watcher's own
 * (`DURATION_RANGES` of `@vmcp/reconciler`), and the HTTP API's heartbeat.
 */
export const FLAG_RANGES = Object.freeze({
  'resync-period': DURATION_RANGES.resyncPeriodMs,
  'read-timeout': DURATION_RANGES.readTimeoutMs,
  'secret-refresh-period': DURATION_RANGES.secretRefreshPeriodMs,
  'initial-sync-timeout': DURATION_RANGES.initialSyncTimeoutMs,
  'grace-period': DURATION_RANGES.gracefulShutdownTimeoutMs,
  'heartbeat-interval': HEARTBEAT_RANGE,
} satisfies Record<string, DurationRange>);

/** A range as `--help` states it: `100ms to 720h`, with `0` where it turns the option off. */
const shownRange = ({ min, max, off }: DurationRange): string =>
  `${formatDuration(min)} to ${formatDuration(max)}${off ? ', or 0 for off' : ''}`;

/** What the command line asks for, before anything touches the cluster. */
export type Command =
  | { command: 'help' }
  | { command: 'version' }
  | { command: 'run'; config: RunConfig }
  | { command: 'explain'; config: RunConfig; name: string }
  | { command: 'demo'; config: DemoConfig };

/** Settings of `run` and `explain`. */
export interface RunConfig {
  /** Undefined: the `groupRef` of the vMCP config file (`configFile`), read later. */
  group: string | undefined;
  /** The vMCP config file (`--config`): `groupRef` and `outgoingAuth`. */
  configFile: string | undefined;
  /** Undefined: resolved later from the service account file or the kubeconfig context. */
  namespace: string | undefined;
  kubeconfig: string | undefined;
  listen: Listen;
  apiTokenFile: string | undefined;
  logLevel: LogLevel;
  /** Re-reconcile period; 0 is off. Default 10 h (upstream's). */
  resyncPeriodMs: number;
  /** Bound of each read a reconcile makes. Default 5 s. */
  readTimeoutMs: number;
  /** Reconciles at once. Default 4. */
  workers: number;
  /** Re-read period of the Secrets backends use; 0 is off. Default 60 s. */
  secretRefreshPeriodMs: number;
  /** How long readiness waits for initial names whose reads fail. Default 30 s. */
  initialSyncTimeoutMs: number;
  gracePeriodMs: number;
  /** `explain` only: ask the sidecar running at this URL instead of reading the cluster. */
  sidecarUrl: string | undefined;
  /** How often event streams carry a heartbeat event. */
  heartbeatMs: number;
  /** Long-polls and event streams open at once; more get 503. Default 1000. */
  maxStreams: number;
}

/** Settings of `demo`. */
export interface DemoConfig {
  listen: Listen;
  logLevel: LogLevel;
  examples: string | undefined;
  /** Print the first complete registry and stop (for scripts and CI). */
  once: boolean;
}

export interface Listen {
  host: string;
  port: number;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the namespace of an in-cluster pod is written. */
export const SERVICE_ACCOUNT_NAMESPACE_FILE =
  '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export const USAGE = `Usage: vmcp-backend-watcher --group NAME [options]
       vmcp-backend-watcher explain NAME --group NAME [--sidecar URL] [options]
       vmcp-backend-watcher demo [--listen HOST:PORT] [--examples DIR] [--once]

Keeps the backends of one MCPGroup in one namespace in step with the cluster and serves them
over HTTP to the other containers of the pod.

Options (each also read from the environment variable shown):
  --group NAME              the MCPGroup, "name" or "namespace/name"      VMCP_GROUP
                            (default: groupRef of the --config file)
  --config FILE             the vMCP server's config file (YAML or JSON): its groupRef and
                            outgoingAuth are used, everything else is ignored; re-read when it
                            changes (a mounted ConfigMap too)                VMCP_CONFIG
  --namespace NS            the namespace watched                           VMCP_NAMESPACE
                            (else POD_NAMESPACE, the service account's namespace file,
                            then the kubeconfig context's namespace)
  --kubeconfig PATH         kubeconfig file (else in-cluster, then ~/.kube/config)  KUBECONFIG
  --listen HOST:PORT        HTTP address (default 127.0.0.1:8080)           VMCP_LISTEN
  --api-token-file PATH     bearer token that unlocks secret values         VMCP_API_TOKEN_FILE
  --log-level LEVEL         trace|debug|info|warn|error|fatal|silent (default info)  VMCP_LOG_LEVEL
  --resync-period DURATION  re-reconcile every backend about this often (jittered ±10%;
                            default 10h, as upstream; ${shownRange(FLAG_RANGES['resync-period'])})
                                                                            VMCP_RESYNC_PERIOD
  --read-timeout DURATION   bound of each read a reconcile makes (default 5s;
                            ${shownRange(FLAG_RANGES['read-timeout'])})
                                                                            VMCP_READ_TIMEOUT
  --workers N               reconciles at once (default 4; upstream runs 1)  VMCP_WORKERS
  --secret-refresh-period DURATION  re-read each Secret a backend uses this often (jittered
                            ±10%; metadata only, one GET per Secret per period); a changed one
                            re-reconciles the backends that use it (default 60s;
                            ${shownRange(FLAG_RANGES['secret-refresh-period'])})
                                                                   VMCP_SECRET_REFRESH_PERIOD
  --initial-sync-timeout DURATION  how long /readyz waits, once the caches synced, for backends
                            whose first reads fail; then ready, naming them (default 30s;
                            ${shownRange(FLAG_RANGES['initial-sync-timeout'])})
                                                                   VMCP_INITIAL_SYNC_TIMEOUT
  --grace-period DURATION   time in-flight reconciles get at shutdown (default 10s;
                            ${shownRange(FLAG_RANGES['grace-period'])}; 0 aborts them at once)
                                                                            VMCP_GRACE_PERIOD
  --sidecar URL             explain only: ask the sidecar running at URL (its kept backends
                            included) instead of reading the cluster
  --heartbeat-interval DURATION  a heartbeat event on every event stream this often
                            (default 15s; ${shownRange(FLAG_RANGES['heartbeat-interval'])}; clients detect a stalled
                            stream by it)                                   VMCP_HEARTBEAT_INTERVAL
  --max-streams N           long-polls and event streams open at once, 1 to 100000
                            (default 1000; more get 503 with Retry-After)  VMCP_MAX_STREAMS
  --examples DIR            demo only: the manifests to apply (default: the bundled examples)
  --once                    demo only: print the registry once synced, then stop
  -h, --help                print this help
  -v, --version             print the version

A DURATION is 500ms, 90s, 5m, 1h30m or a number of seconds, within the range shown; one
outside it is refused, naming the limit.

HTTP API: GET /healthz /readyz /metrics /v1/backends /v1/backends/{id} /v1/events
/v1/explain/{name}
(see the README and openapi.yaml).`;

const OPTIONS = {
  group: { type: 'string' },
  config: { type: 'string' },
  namespace: { type: 'string' },
  kubeconfig: { type: 'string' },
  listen: { type: 'string' },
  'api-token-file': { type: 'string' },
  'log-level': { type: 'string' },
  'resync-period': { type: 'string' },
  'read-timeout': { type: 'string' },
  workers: { type: 'string' },
  'secret-refresh-period': { type: 'string' },
  'initial-sync-timeout': { type: 'string' },
  sidecar: { type: 'string' },
  'grace-period': { type: 'string' },
  'heartbeat-interval': { type: 'string' },
  'max-streams': { type: 'string' },
  examples: { type: 'string' },
  once: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type ParsedArgs = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
/** A setting: the flag, else its environment variable (empty counts as unset). */
type Setting = (flag: keyof typeof OPTIONS, variable: string) => string | undefined;

/** Parses argv (without node and the script) and the environment into a command. */
export function parseCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Command {
  const { values, positionals } = parseFlags(argv);
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };

  const [subcommand, ...rest] = positionals;
  const setting: Setting = (flag, variable) => {
    const value = values[flag] ?? nonEmpty(env[variable]);
    return typeof value === 'string' ? value : undefined;
  };
  const listen = parseListen(setting('listen', 'VMCP_LISTEN') ?? '127.0.0.1:8080');
  const logLevel = parseLogLevel(setting('log-level', 'VMCP_LOG_LEVEL') ?? 'info');

  if (subcommand === 'demo') {
    if (rest.length > 0) throw new UsageError(`demo takes no arguments, got "${rest.join(' ')}"`);
    return {
      command: 'demo',
      config: { listen, logLevel, examples: values.examples, once: values.once === true },
    };
  }
  checkCommandOptions(values, subcommand);
  const config = runConfig(setting, env, { listen, logLevel, sidecarUrl: values.sidecar });
  if (subcommand === 'explain') {
    const [name, ...extra] = rest;
    if (name === undefined) throw new UsageError('explain needs a resource name');
    if (extra.length > 0) throw new UsageError(`explain takes one name, got "${rest.join(' ')}"`);
    return { command: 'explain', config, name };
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  return { command: 'run', config };
}

/** Refuses the options of other commands, and commands that do not exist. */
function checkCommandOptions(values: ParsedArgs['values'], subcommand: string | undefined): void {
  if (values.examples !== undefined) throw new UsageError('--examples is a demo option');
  if (values.once !== undefined) throw new UsageError('--once is a demo option');
  if (subcommand !== undefined && subcommand !== 'explain') {
    throw new UsageError(`unknown command "${subcommand}" (commands: explain, demo; see --help)`);
  }
  if (values.sidecar !== undefined && subcommand !== 'explain') {
    throw new UsageError('--sidecar is an explain option');
  }
}

/** The flags and positionals; a mistake in them is one clear {@link UsageError}. */
function parseFlags(argv: readonly string[]): ParsedArgs {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    const option = /'([^' ]+)/.exec(firstLine(error))?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
      throw new UsageError(`unknown option ${option}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
      throw new UsageError(`option ${option} needs a value`);
    }
    throw new UsageError(firstLine(error));
  }
}

/** The settings of `run` and `explain`, each from its flag or variable, checked. */
function runConfig(
  setting: Setting,
  env: Readonly<Record<string, string | undefined>>,
  parsed: Pick<RunConfig, 'listen' | 'logLevel' | 'sidecarUrl'>,
): RunConfig {
  const group = setting('group', 'VMCP_GROUP');
  const configFile = setting('config', 'VMCP_CONFIG');
  if (group === undefined && configFile === undefined) {
    throw new UsageError('--group (or VMCP_GROUP) is required, or a --config file with a groupRef');
  }
  if (group !== undefined) checkGroup(group);
  const namespace = setting('namespace', 'VMCP_NAMESPACE') ?? nonEmpty(env.POD_NAMESPACE);
  if (namespace !== undefined && !isDnsLabel(namespace)) {
    throw new UsageError(`namespace "${namespace}" is not a valid namespace name`);
  }
  const url = parsed.sidecarUrl;
  if (url !== undefined && (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))) {
    throw new UsageError(`--sidecar "${url}" is not an http(s) URL`);
  }
  const duration = (flag: keyof typeof FLAG_RANGES, variable: string, fallback: number) => {
    const value = setting(flag, variable);
    return value === undefined ? fallback : parseDuration(value, `--${flag}`, FLAG_RANGES[flag]);
  };
  const workers = setting('workers', 'VMCP_WORKERS');
  const maxStreams = setting('max-streams', 'VMCP_MAX_STREAMS');
  return {
    ...parsed,
    group,
    configFile,
    namespace,
    kubeconfig: setting('kubeconfig', 'KUBECONFIG'),
    apiTokenFile: setting('api-token-file', 'VMCP_API_TOKEN_FILE'),
    resyncPeriodMs: duration('resync-period', 'VMCP_RESYNC_PERIOD', DEFAULT_RESYNC_PERIOD_MS),
    readTimeoutMs: duration('read-timeout', 'VMCP_READ_TIMEOUT', DEFAULT_READ_TIMEOUT_MS),
    workers:
      workers === undefined ? DEFAULT_WORKERS : parseCount(workers, '--workers', WORKERS_RANGE.max),
    secretRefreshPeriodMs: duration(
      'secret-refresh-period',
      'VMCP_SECRET_REFRESH_PERIOD',
      DEFAULT_SECRET_REFRESH_PERIOD_MS,
    ),
    initialSyncTimeoutMs: duration(
      'initial-sync-timeout',
      'VMCP_INITIAL_SYNC_TIMEOUT',
      DEFAULT_INITIAL_SYNC_TIMEOUT_MS,
    ),
    gracePeriodMs: duration('grace-period', 'VMCP_GRACE_PERIOD', DEFAULT_GRACE_PERIOD_MS),
    heartbeatMs: duration('heartbeat-interval', 'VMCP_HEARTBEAT_INTERVAL', DEFAULT_HEARTBEAT_MS),
    maxStreams:
      maxStreams === undefined
        ? DEFAULT_MAX_STREAMS
        : parseCount(maxStreams, '--max-streams', MAX_STREAMS_LIMIT),
  };
}

/** `name` or `namespace/name`, as `--group` takes it. */
export function checkGroup(group: string): void {
  if (!/^([a-z0-9][a-z0-9.-]*\/)?[a-z0-9][a-z0-9.-]*$/.test(group) || group.length > 253 + 64) {
    throw new UsageError(`--group "${group}" is not "name" or "namespace/name"`);
  }
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (all interfaces). */
export function parseListen(value: string): Listen {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) {
    throw new UsageError(`--listen "${value}" is not HOST:PORT (port 0 to 65535)`);
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/**
 * `90s`, `5m`, `1h30m`, `500ms`, or a bare number of seconds, within `range` (0 too where it
 * turns the option off), in whole milliseconds. Anything else is a {@link UsageError} naming the
 * flag, the value and the limit: `--resync-period "9000h" is above the maximum of 720h`.
 */
export function parseDuration(value: string, flag: string, range: DurationRange): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  if (/^\d+(\.\d+)?$/.test(value)) total = Number(value) * 1000;
  else {
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) {
      throw new UsageError(`${flag} "${value}" is not a duration such as 30s, 5m or 1h`);
    }
    for (const [, amount, unit] of parts) total += Number(amount) * (units[unit ?? 's'] ?? 0);
  }
  try {
    // Digits enough to overflow are above any maximum.
    checkDuration(flag, Number.isFinite(total) ? total : Number.MAX_VALUE, range);
  } catch (error) {
    if (error instanceof DurationRangeError) {
      throw new UsageError(`${flag} ${JSON.stringify(value.slice(0, 40))} ${error.problem}`);
    }
    throw error;
  }
  return Math.round(total);
}

/** A whole number from 1 to `max` (default 64). */
export function parseCount(value: string, flag: string, max = 64): number {
  const count = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(count >= 1 && count <= max)) {
    throw new UsageError(`${flag} "${value}" is not a whole number from 1 to ${max}`);
  }
  return count;
}

function parseLogLevel(value: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new UsageError(`--log-level "${value}" is not one of ${LOG_LEVELS.join(', ')}`);
}

/**
 * The namespace when no flag or variable named it: the in-cluster service account's namespace
 * file, then the kubeconfig context's namespace, then `default`.
 */
export function fallbackNamespace(
  contextNamespace: string | undefined,
  serviceAccountFile = SERVICE_ACCOUNT_NAMESPACE_FILE,
): string {
  try {
    const fromFile = readFileSync(serviceAccountFile, 'utf8').trim();
    if (fromFile) return fromFile;
  } catch {
    // Not in a cluster.
  }
  return contextNamespace || 'default';
}

/** Reads the API token file: one line, surrounding whitespace ignored, never empty. */
export function readTokenFile(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`cannot read --api-token-file ${path}: ${errorCode(error)}`);
  }
  if (token === '') throw new UsageError(`--api-token-file ${path} is empty`);
  return token;
}

export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The first line of an error's message, never its stack. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? '';
}

/** `ENOENT` and friends, or the message's first line. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : firstLine(error);
}
