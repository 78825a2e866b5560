import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually } from '@vmcp/test-support';

/**
 * How long the built sidecar may take to log `serving`, and then to answer `/readyz` with 200.
 * Measured on the 2-core machine: 0.5 to 1.5 s for both while other test suites ran, up to 6.6 s
 * and 9.7 s with two busy loops beside them; this is six times the slowest.
 */
export const SIDECAR_READY_TIMEOUT_MS = 60_000;

/** The built binary: `pnpm test` builds it first (turbo), as users run it. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Where and as whom a {@link CliProcess} runs; by default the workspace's build, as this user. */
export interface CliSpawnOptions {
  /** The `cli.js` to run. Default {@link CLI}. */
  cli?: string;
  cwd?: string;
  uid?: number;
  gid?: number;
}

/** A running `vmcp-backend-watcher` child with its output collected. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    args: readonly string[],
    env: Record<string, string | undefined> = {},
    { cli = CLI, ...spawnOptions }: CliSpawnOptions = {},
  ) {
    if (!existsSync(cli)) {
      throw new Error(
        `${cli} is missing: build the app first (pnpm --filter @vmcp/backend-watcher build)`,
      );
    }
    this.child = spawn(process.execPath, [cli, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...spawnOptions,
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** The JSON log lines written so far. */
  logs(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Waits for a log line with this message and returns it; fails at once if the process exits. */
  waitForLog(msg: string, timeoutMs = SIDECAR_READY_TIMEOUT_MS): Promise<Record<string, unknown>> {
    const find = () => this.logs().find((entry) => entry.msg === msg);
    const logged = eventually(
      () => find() ?? fail(`no "${msg}" log line yet: ${this.stdout.slice(-2000)}`),
      timeoutMs,
    );
    const exited = this.exited.then(
      ({ code }) => find() ?? fail(`exited ${code} before logging "${msg}": ${this.stderr}`),
    );
    // Whichever settles second is ignored, not left as an unhandled rejection.
    logged.catch(() => {});
    exited.catch(() => {});
    return Promise.race([logged, exited]);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

function fail(message: string): never {
  throw new Error(message);
}

/** Runs the binary to completion. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: CliSpawnOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = new CliProcess(args, env, options);
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}
