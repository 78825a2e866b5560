#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeApiServer } from './fake.js';

const USAGE = `Usage: vmcp-fake-apiserver [--port N] [--http] [--crd FILE]... [--manifest FILE]... [--token T]...

Runs an in-process Kubernetes API server on 127.0.0.1 until Ctrl-C, and prints the path of a
kubeconfig for it (use it with kubectl or any client).

  --port N          port (default: any free port)
  --http            serve plain HTTP (default HTTPS with a self-signed certificate; kubectl
                    sends tokens only over HTTPS)
  --crd FILE        install the CRDs of this manifest file (repeatable)
  --manifest FILE   create the objects of this manifest file (repeatable)
  --token T         accept this bearer token (repeatable; default: one random token)
  -h, --help        print this help`;

export async function main(argv: readonly string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    process.stderr.write(`vmcp-fake-apiserver: ${(error as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`vmcp-fake-apiserver: --port "${values.port}" is not a port number\n`);
    return 2;
  }
  const server = await startFakeApiServer({
    port,
    https: !values.http,
    crds: values.crd ?? [],
    manifests: values.manifest ?? [],
    ...(values.token ? { tokens: values.token } : {}),
  });
  process.stdout.write(`${server.url}\nkubeconfig: ${server.kubeconfigPath}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  return 0;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      http: { type: 'boolean' },
      crd: { type: 'string', multiple: true },
      manifest: { type: 'string', multiple: true },
      token: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}

function invokedDirectly(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`vmcp-fake-apiserver: ${(error as Error).message.split('\n')[0]}\n`);
      process.exit(1);
    },
  );
}
