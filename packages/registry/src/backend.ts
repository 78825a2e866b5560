/**
 * The vMCP `Backend`: one MCP server that a Virtual MCP server aggregates. Field for field the
 * upstream Go type (`pkg/vmcp/types.go`), in camelCase.
 */

/** The protocol clients use to talk to a backend. `stdio` appears only in static/local setups. */
export type TransportType = 'streamable-http' | 'sse' | 'stdio' | 'unknown';

/** Every transport type, in a stable order. */
export const TRANSPORT_TYPES: readonly TransportType[] = Object.freeze([
  'streamable-http',
  'sse',
  'stdio',
  'unknown',
]);

/**
 * What kind of workload a backend is. Upstream leaves the type empty (`undefined` here) for
 * MCPServer and MCPRemoteProxy, for backward compatibility, and sets `entry` for MCPServerEntry.
 */
export type BackendType = 'container' | 'proxy' | 'entry';

/** The backend's health as the discoverer derives it from the workload's phase. */
export type BackendHealthStatus =
  | 'healthy'
  | 'degraded'
  | 'unhealthy'
  | 'unknown'
  | 'unauthenticated';

/** Every health status, in a stable order. */
export const BACKEND_HEALTH_STATUSES: readonly BackendHealthStatus[] = Object.freeze([
  'healthy',
  'degraded',
  'unhealthy',
  'unknown',
  'unauthenticated',
]);

/** The status words the CRDs use for a backend's health (upstream `ToCRDStatus`). */
export type BackendCrdStatus = 'ready' | 'degraded' | 'unavailable' | 'unauthenticated' | 'unknown';

/**
 * Maps a health status to the word the CRD status uses: healthy → `ready`, degraded →
 * `degraded`, unhealthy → `unavailable`, unauthenticated → `unauthenticated`, anything else →
 * `unknown`.
 */
export function toCrdStatus(status: BackendHealthStatus | string): BackendCrdStatus {
  switch (status) {
    case 'healthy':
      return 'ready';
    case 'degraded':
      return 'degraded';
    case 'unhealthy':
      return 'unavailable';
    case 'unauthenticated':
      return 'unauthenticated';
    default:
      return 'unknown';
  }
}

/** A role mapping of the `aws_sts` strategy: which role to assume for which claim. */
export interface AwsStsRoleMapping {
  claim?: string;
  matcher?: string;
  roleArn: string;
  priority?: number;
}

/** No outgoing authentication. */
export interface UnauthenticatedStrategy {
  type: 'unauthenticated';
}

/** Adds one header whose value comes from a Secret. `headerValue` is secret material. */
export interface HeaderInjectionStrategy {
  type: 'header_injection';
  headerName: string;
  /** Secret material: never log it; {@link redactBackend} replaces it. */
  headerValue: string;
}

/** RFC 8693 token exchange. `clientSecret` is secret material. */
export interface TokenExchangeStrategy {
  type: 'token_exchange';
  tokenUrl: string;
  clientId?: string;
  /** Secret material, present only when the auth config references a client secret. */
  clientSecret?: string;
  audience?: string;
  scopes?: string[];
  /** Normalised: `access_token`, `id_token`, `jwt` become `urn:ietf:params:oauth:token-type:*`. */
  subjectTokenType?: string;
  subjectProviderName?: string;
}

/** Injects the token of an upstream identity provider. */
export interface UpstreamInjectStrategy {
  type: 'upstream_inject';
  providerName: string;
}

/** Signs requests with AWS credentials obtained through STS. No secrets. */
export interface AwsStsStrategy {
  type: 'aws_sts';
  region: string;
  service?: string;
  fallbackRoleArn?: string;
  roleMappings?: AwsStsRoleMapping[];
  roleClaim?: string;
  sessionDuration?: number;
  sessionNameClaim?: string;
  subjectProviderName?: string;
}

/** Cross-app access (identity assertion grant). The two client secrets are secret material. */
export interface XaaStrategy {
  type: 'xaa';
  idpTokenUrl: string;
  idpClientId?: string;
  /** Secret material, present only when referenced. */
  idpClientSecret?: string;
  targetTokenUrl: string;
  insecureTargetTokenUrl?: boolean;
  targetClientId?: string;
  /** Secret material, present only when referenced. */
  targetClientSecret?: string;
  targetAudience?: string;
  targetResource?: string;
  scopes?: string[];
  subjectProviderName?: string;
  subjectTokenType?: string;
}

/**
 * A resolved outgoing auth strategy: every Secret it references has been read. A backend never
 * carries a strategy that was only partly resolved.
 */
export type BackendAuthStrategy =
  | UnauthenticatedStrategy
  | HeaderInjectionStrategy
  | TokenExchangeStrategy
  | UpstreamInjectStrategy
  | AwsStsStrategy
  | XaaStrategy;

/** Every strategy type string, in a stable order. */
export const AUTH_STRATEGY_TYPES: readonly BackendAuthStrategy['type'][] = Object.freeze([
  'unauthenticated',
  'header_injection',
  'token_exchange',
  'upstream_inject',
  'aws_sts',
  'xaa',
]);

/**
 * Headers an entry forwards to its remote server. Values of `addHeadersFromSecret` are
 * identifiers (`HEADER_FORWARD_<HEADER>_<OWNER>`) that the runtime resolves from its
 * environment, never the secret values themselves.
 */
export interface HeaderForward {
  addPlaintextHeaders?: Record<string, string>;
  addHeadersFromSecret?: Record<string, string>;
}

/** One MCP server that a vMCP server aggregates. */
export interface Backend {
  /** Unique key. In Kubernetes discovery, the resource name. Never empty. */
  id: string;
  /** Human name. In Kubernetes discovery, the resource name. */
  name: string;
  /** The MCP endpoint URL. */
  baseUrl: string;
  transportType: TransportType;
  /** Absent for MCPServer and MCPRemoteProxy (upstream leaves it empty), `entry` for entries. */
  type?: BackendType;
  /** A CA bundle file mounted into the pod (static mode). */
  caBundlePath?: string;
  /** PEM text read from a ConfigMap (dynamic mode); takes precedence over `caBundlePath`. */
  caBundleData?: string;
  healthStatus: BackendHealthStatus;
  /** The resolved outgoing auth strategy; absent means no auth. */
  authConfig?: BackendAuthStrategy;
  /** Name of the MCPExternalAuthConfig the strategy came from. */
  authConfigRef?: string;
  /** Entries only. */
  headerForward?: HeaderForward;
  metadata: Record<string, string>;
}
