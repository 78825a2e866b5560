import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  type Environment,
  type OutgoingAuth,
  OutgoingAuthConfigError,
  parseOutgoingAuth,
} from '@vmcp/reconciler';
import type { LineCounter, YAMLError } from 'yaml';

/**
 * The YAML parser, loaded by the first config read: a sidecar started without `--config` never
 * loads it (about 50 modules' worth of start-up time and memory). `yaml` resolves to the same
 * CommonJS build for `require` and `import`.
 */
let yaml: typeof import('yaml') | undefined;
const loadYaml = (): typeof import('yaml') => {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml;
};

/**
 * What the sidecar reads of a vMCP server's config file (`--config`): `groupRef` and
 * `outgoingAuth`. Every other key configures the rest of vMCP and is ignored.
 */
export interface VmcpConfig {
  /** The file it was read from. */
  readonly path: string;
  /** `groupRef`: the group, a default for `--group`. */
  readonly groupRef: string | undefined;
  /** `outgoingAuth`, checked and resolved; undefined when the file has none. Secret material. */
  readonly outgoingAuth: OutgoingAuth | undefined;
  /** The bytes read, to tell an unchanged file from a changed one. */
  readonly text: string;
}

/**
 * A vMCP config file that cannot be used: the file, and where in it and what is wrong (never a
 * value of it: the file holds secrets).
 */
export class VmcpConfigError extends Error {
  override readonly name = 'VmcpConfigError';
  readonly file: string;

  constructor(file: string, problem: string, options?: ErrorOptions) {
    super(`${file}: ${problem}`, options);
    this.file = file;
  }
}

/** The most a config file may hold: a ConfigMap's limit. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** A group name (the same rule as `--group`). */
const GROUP = /^[a-z0-9][a-z0-9.-]*$/;

/** Reads and checks a vMCP config file (YAML or JSON); `...Env` fields are read from `env`. */
export function loadVmcpConfig(path: string, env: Environment = process.env): VmcpConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new VmcpConfigError(path, `cannot be read (${code})`);
  }
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new VmcpConfigError(
      path,
      `is larger than ${MAX_CONFIG_BYTES} bytes (a ConfigMap's limit)`,
    );
  }
  return parseVmcpConfig(bytes.toString('utf8'), path, env);
}

/**
 * Checks the text of a vMCP config file. YAML 1.2 (JSON is YAML): duplicate keys, several
 * documents and unknown tags are refused; the top level must be a mapping.
 */
export function parseVmcpConfig(text: string, path: string, env: Environment): VmcpConfig {
  const document = documentOf(text, path);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new VmcpConfigError(
      path,
      document === null || document === undefined
        ? 'is empty'
        : 'must hold a mapping (the vMCP config), not a single value or a list',
    );
  }
  const values = document as Record<string, unknown>;
  const groupRef = groupRefOf(
    Object.hasOwn(values, 'groupRef') ? values.groupRef : undefined,
    path,
  );
  const raw = Object.hasOwn(values, 'outgoingAuth') ? values.outgoingAuth : undefined;
  let outgoingAuth: OutgoingAuth | undefined;
  try {
    // `outgoingAuth: null` is no block at all, as upstream's nil pointer: discovered auth only.
    outgoingAuth = raw === undefined || raw === null ? undefined : parseOutgoingAuth(raw, { env });
  } catch (error) {
    if (error instanceof OutgoingAuthConfigError) {
      throw new VmcpConfigError(path, error.message, { cause: error });
    }
    throw error;
  }
  return { path, groupRef, outgoingAuth, text };
}

/** The plain value of the one YAML document in `text`. */
function documentOf(text: string, path: string): unknown {
  const { LineCounter, parseDocument } = loadYaml();
  const lines = new LineCounter();
  const document = parseDocument(text, {
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter: lines,
  });
  // A warning is an error here: an unknown tag (`!vault ...`) would otherwise become its text.
  const [problem] = [...document.errors, ...document.warnings];
  if (problem !== undefined) throw syntaxError(path, problem, lines);
  try {
    // Aliases are expanded up to yaml's limit of 100, so that a small file cannot become a huge
    // value (it throws beyond it).
    return document.toJS({ maxAliasCount: 100 });
  } catch {
    throw new VmcpConfigError(path, 'uses too many YAML aliases');
  }
}

/** A syntax error by its code and place only: YAML's own message quotes the line (a secret). */
function syntaxError(path: string, error: YAMLError, lines: LineCounter): VmcpConfigError {
  const start = lines.linePos(error.pos[0]);
  const where = ` at line ${start.line}, column ${start.col}`;
  return new VmcpConfigError(path, `is not valid YAML or JSON${where} (${error.code})`);
}

function groupRefOf(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > 253 || !GROUP.test(value)) {
    throw new VmcpConfigError(path, 'groupRef: must be the name of an MCPGroup');
  }
  return value;
}
