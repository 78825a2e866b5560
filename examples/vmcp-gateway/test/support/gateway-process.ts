import { fileURLToPath } from 'node:url';
import { CliProcess } from '@vmcp/test-support';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `vmcp-gateway` run as its users run it from the repository (`pnpm start`): Node with tsx on
 * the package's `src/cli.ts`, in a child process whose output is collected.
 */
export function runGateway(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  return new CliProcess(
    args,
    { NODE_OPTIONS: '--conditions=@vmcp/source --import tsx', ...env },
    { cli: fileURLToPath(new URL('../../src/cli.ts', import.meta.url)), cwd: PACKAGE_DIR },
  );
}

/** Runs the gateway and resolves with it and its URL once it logs that it is serving. */
export async function startGatewayProcess(
  args: readonly string[],
): Promise<{ gateway: CliProcess; url: string }> {
  const gateway = runGateway(args);
  const url = (await gateway.waitForLog('serving')).url as string;
  return { gateway, url };
}
