import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

  /** Waits for a log line with this message and returns it. */
  async waitForLog(msg: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs().find((entry) => entry.msg === msg);
      if (line) return line;
      if (this.child.exitCode !== null) {
        throw new Error(`exited ${this.child.exitCode} before logging "${msg}": ${this.stderr}`);
      }
      if (Date.now() > deadline)
        throw new Error(`no "${msg}" log line: ${this.stdout.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
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

/** Retries a check until it passes or the time is up. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
