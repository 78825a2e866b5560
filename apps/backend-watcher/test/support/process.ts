import { fileURLToPath } from 'node:url';
import {
  CliProcess as BuiltProgram,
  type CliSpawnOptions,
  PROCESS_READY_TIMEOUT_MS,
} from '@vmcp/test-support';

export type { CliSpawnOptions };

/** How long the built sidecar may take to log `serving`, and then to answer `/readyz` with 200. */
export const SIDECAR_READY_TIMEOUT_MS = PROCESS_READY_TIMEOUT_MS;

/** The built binary: `pnpm test` builds it first (turbo), as users run it. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** A running `vmcp-backend-watcher` child (by default the workspace's build, as this user). */
export class CliProcess extends BuiltProgram {
  constructor(
    args: readonly string[],
    env: Record<string, string | undefined> = {},
    options: Partial<CliSpawnOptions> = {},
  ) {
    super(args, env, { cli: CLI, ...options });
  }
}

/** Runs the binary to completion. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: Partial<CliSpawnOptions> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = new CliProcess(args, env, options);
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}
