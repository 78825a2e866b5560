/**
 * The command line of `vmcp-gateway`. Every flag is hostile input until parsed: each value is
 * checked here, and a mistake is one {@link UsageError} whose message quotes the value safely
 * (control characters escaped, long values cut), never a crash or a guess.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

/** A mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Where the gateway listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Where the backends come from: a sidecar's registry, or a BackendWatcher run in process. */
export type RegistrySourceConfig =
  | { readonly kind: 'sidecar'; readonly url: string; readonly tokenFile: string | undefined }
  | {
      readonly kind: 'kubernetes';
      readonly kubeconfig: string;
      readonly group: string;
      readonly namespace: string;
    };

/** What the command line asks for. */
export type Command =
  | { readonly command: 'help' }
  | {
      readonly command: 'run';
      readonly listen: ListenAddress;
      readonly source: RegistrySourceConfig;
    };

export const USAGE = `Usage: vmcp-gateway --registry URL [--token-file PATH] --listen HOST:PORT
       vmcp-gateway --kubeconfig PATH --group NAME --namespace NS --listen HOST:PORT

Serves the tools of every backend of a vMCP registry behind one MCP endpoint (Streamable HTTP at
/mcp), each as <backend id>_<tool name>, and the state of each backend at GET /status.

  --registry URL       the vmcp-backend-watcher sidecar to follow (http or https)
  --token-file PATH    the sidecar's API token (its --api-token-file), to receive secret values
  --kubeconfig PATH    watch the cluster in this process instead of following a sidecar
  --group NAME         with --kubeconfig: the MCPGroup, "name" or "namespace/name"
  --namespace NS       with --kubeconfig: the namespace watched
  --listen HOST:PORT   the gateway's address (port 0: any free port)
  -h, --help           print this help`;

const OPTIONS = {
  registry: { type: 'string' },
  'token-file': { type: 'string' },
  kubeconfig: { type: 'string' },
  group: { type: 'string' },
  namespace: { type: 'string' },
  listen: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof OPTIONS;
type Values = Partial<Record<Flag, string>>;

/** Parses argv (without node and the script). Throws {@link UsageError} on any mistake. */
export function parseCommand(argv: readonly string[]): Command {
  const values = parseFlagValues(argv);
  if (values.help !== undefined) return { command: 'help' };
  const listenValue = values.listen;
  if (listenValue === undefined) throw new UsageError('--listen HOST:PORT is required');
  return { command: 'run', listen: parseListen(listenValue), source: parseSource(values) };
}

/** The flags as strings, each given at most once; unknown flags and positionals refused. */
function parseFlagValues(argv: readonly string[]): Values & { help?: string } {
  const values: Values & { help?: string } = {};
  for (const token of parseTokens(argv)) {
    if (token.kind === 'positional') {
      throw new UsageError(`unexpected argument ${quote(token.value)} (see --help)`);
    }
    if (token.kind !== 'option') continue;
    const name = token.name as Flag;
    if (values[name] !== undefined) throw new UsageError(`--${name} is given more than once`);
    values[name] = token.value ?? 'true';
  }
  return values;
}

function parseTokens(argv: readonly string[]) {
  try {
    const options = {
      options: OPTIONS,
      strict: true,
      allowPositionals: true,
      tokens: true,
    } as const;
    return parseArgs({ args: [...argv], ...options }).tokens;
  } catch (error) {
    throw new UsageError(describeParseError(error));
  }
}

/** node:util's parse errors, as one line that quotes no raw input. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const option = /'(-{1,2}[A-Za-z0-9-]*)/.exec(error instanceof Error ? error.message : '')?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${option === undefined ? '' : quote(option)} (see --help)`.trim();
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    return `option ${option} needs a value (write ${option}=VALUE for one starting with "-")`;
  }
  return 'the command line cannot be parsed (see --help)';
}

/** The registry source: exactly one of --registry and --kubeconfig, with their companions. */
function parseSource(values: Values): RegistrySourceConfig {
  const { registry, kubeconfig } = values;
  if (registry !== undefined && kubeconfig !== undefined) {
    throw new UsageError('give --registry or --kubeconfig, not both');
  }
  if (registry !== undefined) {
    for (const flag of ['group', 'namespace'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --kubeconfig`);
    }
    return { kind: 'sidecar', url: parseRegistryUrl(registry), tokenFile: optionalPath(values) };
  }
  if (kubeconfig === undefined) {
    throw new UsageError('give --registry URL (a sidecar) or --kubeconfig PATH (see --help)');
  }
  if (values['token-file'] !== undefined) {
    throw new UsageError('--token-file goes with --registry');
  }
  const { group, namespace } = values;
  if (group === undefined) throw new UsageError('--group is required with --kubeconfig');
  if (namespace === undefined) throw new UsageError('--namespace is required with --kubeconfig');
  return {
    kind: 'kubernetes',
    kubeconfig: parsePath(kubeconfig, '--kubeconfig'),
    group: parseGroup(group),
    namespace: parseNamespace(namespace),
  };
}

function optionalPath(values: Values): string | undefined {
  const path = values['token-file'];
  return path === undefined ? undefined : parsePath(path, '--token-file');
}

/**
 * `HOST:PORT`, `[IPv6]:PORT`. HOST is an IP address or a DNS name; PORT a whole number from 0
 * to 65535 (0: any free port).
 */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2] ?? '';
  const hostIsValid = match?.[1] !== undefined ? isIP(host) === 6 : isHostName(host);
  if (!match || !hostIsValid || port > 65_535) {
    throw new UsageError(
      `--listen ${quote(value)} is not HOST:PORT (an IP address or name, a port from 0 to 65535)`,
    );
  }
  return { host, port };
}

function isHostName(host: string): boolean {
  if (isIP(host) !== 0) return true;
  return (
    host.length <= 253 &&
    /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)
  );
}

/** An http(s) URL without credentials, query or fragment: the sidecar's base URL. */
export function parseRegistryUrl(value: string): string {
  const url = URL.canParse(value) && value.length <= 2048 ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--registry ${quote(value)} is not an http(s) URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('--registry must not carry credentials: give the token with --token-file');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(`--registry ${quote(value)} must not have a query or a fragment`);
  }
  return url.href;
}

function parsePath(value: string, flag: string): string {
  if (value === '' || value.length > 4096 || hasControlCharacter(value)) {
    throw new UsageError(`${flag} ${quote(value)} is not a file path`);
  }
  return value;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** `name` or `namespace/name`, as the BackendWatcher takes it. */
function parseGroup(value: string): string {
  const parts = value.split('/');
  const [first, second] = parts;
  const valid =
    (parts.length === 1 && isSubdomain(first)) ||
    (parts.length === 2 && isDnsLabel(first) && isSubdomain(second));
  if (!valid) throw new UsageError(`--group ${quote(value)} is not "name" or "namespace/name"`);
  return value;
}

function parseNamespace(value: string): string {
  if (!isDnsLabel(value))
    throw new UsageError(`--namespace ${quote(value)} is not a namespace name`);
  return value;
}

function isDnsLabel(value: string | undefined): boolean {
  return value !== undefined && value.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value);
}

function isSubdomain(value: string | undefined): boolean {
  return (
    value !== undefined &&
    value.length <= 253 &&
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value)
  );
}

/**
 * Reads a file holding one secret (the sidecar's API token): surrounding whitespace ignored,
 * never empty. The error names the path, never the content.
 */
export function readSecretFile(path: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(
      `cannot read ${flag} ${quote(path)}: ${typeof code === 'string' ? code : 'unreadable'}`,
    );
  }
  const secret = text.trim();
  if (secret === '') throw new UsageError(`${flag} ${quote(path)} is empty`);
  if (/[\r\n]/.test(secret))
    throw new UsageError(`${flag} ${quote(path)} holds more than one line`);
  return secret;
}

/** A value quoted for an error message: JSON escapes control characters; long ones are cut. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
