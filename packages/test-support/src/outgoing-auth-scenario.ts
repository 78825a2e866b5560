/**
 * One cluster and vMCP config files in the format upstream documents, with what each backend's
 * auth must be: the same scenario runs on the in-process `BackendWatcher`, the sidecar in-process
 * and the built sidecar, so that all three are held to one behaviour.
 *
 * The group's five MCPServers:
 * - `github` references an MCPExternalAuthConfig (header from a Secret): discovered auth;
 * - `fetch`, `jira` have an entry in `outgoingAuth.backends`;
 * - `wiki` has neither: it gets the `default` (whose value comes from an environment variable);
 * - `broken` references an auth config that does not exist: never served, whatever the file says.
 */

/** The group every object of the scenario is in, and the config's `groupRef`. */
export const SCENARIO_GROUP = 'engineering';

/** What the discovered auth of `github` carries (from its Secret). */
export const DISCOVERED_GITHUB_VALUE = 'discovered-github-token-5e0c';

/** The environment the sidecar runs with: the default's header value comes from it. */
export const SCENARIO_ENV = Object.freeze({
  VMCP_SCENARIO_DEFAULT_TOKEN: 'default-token-from-env-77a1',
});

const API = 'toolhive.stacklok.dev/v1beta1';

/** The scenario's objects (MCPServers with their `status`: written through the status subresource). */
export function scenarioObjects(namespace: string): Record<string, unknown>[] {
  const server = (name: string, authConfig?: string) => ({
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name, namespace, annotations: { group: 'a-user-annotation' } },
    spec: {
      image: `ghcr.io/example/${name}:1`,
      transport: 'streamable-http',
      groupRef: { name: SCENARIO_GROUP },
      ...(authConfig === undefined ? {} : { externalAuthConfigRef: { name: authConfig } }),
    },
    status: { phase: 'Ready', url: `http://${name}.${namespace}.svc:8080/mcp` },
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'github-token', namespace },
      data: { token: Buffer.from(DISCOVERED_GITHUB_VALUE).toString('base64') },
    },
    {
      apiVersion: API,
      kind: 'MCPExternalAuthConfig',
      metadata: { name: 'github-auth', namespace },
      spec: {
        type: 'headerInjection',
        headerInjection: {
          headerName: 'Authorization',
          valueSecretRef: { name: 'github-token', key: 'token' },
        },
      },
    },
    server('github', 'github-auth'),
    server('fetch'),
    server('jira'),
    server('wiki'),
    server('broken', 'no-such-auth-config'),
  ];
}

/** Settings of {@link vmcpConfigYaml}. */
export interface ScenarioConfig {
  /** `outgoingAuth.source`; omitted when undefined (upstream then means inline). */
  source?: 'discovered' | 'inline' | undefined;
  /** The inline header value of `backends.fetch`. */
  fetchValue?: string;
}

/**
 * A vMCP config file as upstream documents it (the whole file, most of which the watcher
 * ignores), with `groupRef` and `outgoingAuth`. `backends.github` is set too: under `discovered`
 * the workload's own auth wins over it, under `inline` it wins.
 */
export function vmcpConfigYaml(config: ScenarioConfig = {}): string {
  // `source: undefined` given explicitly means no source line (upstream: inline).
  const source = 'source' in config ? config.source : 'discovered';
  const fetchValue = config.fetchValue ?? 'fetch-key-1';
  return `# vMCP configuration (the whole file; the backend watcher reads groupRef and outgoingAuth)
name: team-vmcp
groupRef: ${SCENARIO_GROUP}
incomingAuth:
  type: oidc
  oidc:
    issuer: https://login.example.com
    audience: vmcp
outgoingAuth:
${source === undefined ? '' : `  source: ${source}\n`}  default:
    type: header_injection
    headerInjection:
      headerName: X-Default-Token
      headerValueEnv: VMCP_SCENARIO_DEFAULT_TOKEN
  backends:
    fetch:
      type: header_injection
      headerInjection:
        headerName: X-Api-Key
        headerValue: ${fetchValue}
    jira:
      type: unauthenticated
    github:
      type: header_injection
      headerInjection:
        headerName: X-From-The-File
        headerValue: github-file-value
aggregation:
  conflictResolution: prefix
  conflictResolutionConfig:
    prefixFormat: "{workload}_"
operational:
  timeouts:
    default: 30s
`;
}

/** A backend's auth as the registry must hold it: `authConfig` and `authConfigRef`. */
export interface ExpectedAuth {
  authConfig?: Record<string, unknown>;
  authConfigRef?: string;
}

/** What each name of the scenario must be for a config: its auth, or null (not served). */
export function expectedScenarioAuth(
  config: ScenarioConfig = {},
): Record<string, ExpectedAuth | null> {
  const header = (headerName: string, headerValue: string) => ({
    authConfig: { type: 'header_injection', headerName, headerValue },
  });
  // As vmcpConfigYaml: `discovered` unless the config says otherwise (undefined: no source).
  const source = 'source' in config ? config.source : 'discovered';
  const fromFile = source !== 'discovered';
  return {
    github: fromFile
      ? header('X-From-The-File', 'github-file-value')
      : { ...header('Authorization', DISCOVERED_GITHUB_VALUE), authConfigRef: 'github-auth' },
    fetch: header('X-Api-Key', config.fetchValue ?? 'fetch-key-1'),
    jira: { authConfig: { type: 'unauthenticated' } },
    wiki: header('X-Default-Token', SCENARIO_ENV.VMCP_SCENARIO_DEFAULT_TOKEN),
    broken: null,
  };
}
