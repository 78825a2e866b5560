import type { ConversionOutcome } from '@vmcp/discoverer';
import type { Backend, BackendAuthStrategy } from '@vmcp/registry';
import type { ConfiguredStrategy } from './auth-strategy-config.js';
import type { OutgoingAuth } from './outgoing-auth.js';

/**
 * Where a backend's auth comes from, given the workload's discovered auth and the vMCP config's
 * `outgoingAuth`:
 * - `discovered`: keep the strategy discovered from the workload's `externalAuthConfigRef`;
 * - `backends` / `default`: the file's strategy for the name, or its default;
 * - `none`: no auth.
 */
export type AuthResolution =
  | { readonly from: 'discovered' }
  | { readonly from: 'none' }
  | { readonly from: 'backends' | 'default'; readonly configured: ConfiguredStrategy };

/**
 * Upstream's resolution (`applyAuthConfigToBackend`, pkg/vmcp/aggregator), as a pure function:
 * - no `outgoingAuth`: the discovered auth, else none (what the watcher does without a config);
 * - `source: discovered`: the discovered auth when the workload has one, else `backends.<name>`,
 *   else `default`, else none;
 * - `source: inline` (or no source): `backends.<name>`, else `default`, else none; discovered auth
 *   is ignored.
 */
export function resolveBackendAuth(
  name: string,
  discovered: BackendAuthStrategy | undefined,
  auth: OutgoingAuth | undefined,
): AuthResolution {
  if (auth === undefined || (auth.source === 'discovered' && discovered !== undefined)) {
    return discovered === undefined ? { from: 'none' } : { from: 'discovered' };
  }
  const forName = auth.backends.get(name);
  if (forName !== undefined) return { from: 'backends', configured: forName };
  if (auth.default !== undefined) return { from: 'default', configured: auth.default };
  return { from: 'none' };
}

/**
 * A conversion's outcome with the vMCP config's `outgoingAuth` applied (see
 * {@link resolveBackendAuth}). Only a `backend` outcome changes: a workload whose own auth could
 * not be resolved (`auth-unresolved`, a failed read) stays out or kept whatever the config says,
 * also with `inline`, where its discovered auth would be ignored: a broken reference is a
 * misconfiguration that must be seen and fixed, and it is what upstream does (its conversion fails
 * before the config is applied). A strategy from the file replaces the discovered one and clears
 * `authConfigRef` (it no longer names where the strategy came from); a strategy the open-source
 * build cannot serve (`obo`) keeps the backend out, as a discovered one does.
 *
 * @param workload `Kind namespace/name`, for the skip message.
 */
export function withOutgoingAuth(
  outcome: ConversionOutcome,
  auth: OutgoingAuth | undefined,
  workload: string,
): ConversionOutcome {
  if (outcome.kind !== 'backend' || auth === undefined) return outcome;
  const { backend } = outcome;
  const resolution = resolveBackendAuth(backend.id, backend.authConfig, auth);
  if (resolution.from === 'discovered') return outcome;
  const { authConfig: _discovered, authConfigRef: _ref, ...rest } = backend;
  if (resolution.from === 'none') return { kind: 'backend', backend: rest };
  const { configured } = resolution;
  if ('unservable' in configured) {
    return {
      kind: 'skip',
      reason: 'auth-unresolved',
      message: `${workload}: ${configured.path}: ${configured.unservable}`,
    };
  }
  const resolved: Backend = { ...rest, authConfig: configured.strategy };
  return { kind: 'backend', backend: resolved };
}

/**
 * Where the auth of a backend {@link withOutgoingAuth} made came from, for `explain`:
 * `discovered` (its own MCPExternalAuthConfig, named by `authConfigRef`), the path of the file's
 * strategy (`outgoingAuth.backends.fetch`, `outgoingAuth.default`), or `none`.
 */
export function authSourceOf(backend: Backend, auth: OutgoingAuth | undefined): string {
  // A strategy from the file always clears `authConfigRef`: a backend with one kept its own.
  if (backend.authConfigRef !== undefined) return 'discovered';
  const resolution = resolveBackendAuth(backend.id, undefined, auth);
  return resolution.from === 'backends' || resolution.from === 'default'
    ? resolution.configured.path
    : 'none';
}
