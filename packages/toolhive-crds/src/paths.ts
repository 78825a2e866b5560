import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding the five ToolHive CRD manifests, with a trailing separator. The manifests
 * are plain YAML files, so anything that takes a path can read them (`kubectl apply -f`,
 * envtest, the fake API server).
 */
// One level below the package root both as source (src/) and as built code (dist/).
export const toolhiveCrdDirectory: string = fileURLToPath(new URL('../crds/', import.meta.url));

/**
 * Absolute paths of the five ToolHive CRD manifests (MCPExternalAuthConfig, MCPGroup,
 * MCPRemoteProxy, MCPServerEntry, MCPServer), sorted by file name.
 *
 * @example
 * const fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
 */
export const toolhiveCrdPaths: readonly string[] = Object.freeze(
  readdirSync(toolhiveCrdDirectory)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => `${toolhiveCrdDirectory}${name}`),
);
