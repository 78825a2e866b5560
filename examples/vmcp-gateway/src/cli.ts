/**
 * `vmcp-gateway`: the command line. Parses the flags (a mistake: one line on stderr, exit 2),
 * opens the registry source, starts the gateway, logs JSON lines to stdout, and on SIGINT or
 * SIGTERM closes everything and exits 0.
 */
import { parseCommand, USAGE, UsageError } from './flags.js';
import { startGateway } from './gateway.js';
import { createJsonLogger } from './log.js';
import { openRegistrySource } from './registry-source.js';

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommand(argv);
  if (command.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger = createJsonLogger();
  const source = await openRegistrySource(command.source, logger);
  const gateway = await startGateway({ source, listen: command.listen, logger });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info({ signal }, 'shutting down');
  await gateway.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`vmcp-gateway: ${error.message}\n`);
      process.exit(2);
    }
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stderr.write(
      `vmcp-gateway: ${message}${typeof code === 'string' ? ` (${code})` : ''}\n`,
    );
    process.exit(1);
  },
);
