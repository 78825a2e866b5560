import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { eventually } from './eventually.js';

/**
 * How long a built program of the workspace (the sidecar binary) may take to log that it is
 * serving. Measured on the 2-core machine: 0.5 to 1.5 s while other test suites ran, up to 6.6 s
 * and 9.7 s (logging, then answering `/readyz`) with two busy loops beside them; this is six
 * times the slowest.
 */
export const PROCESS_READY_TIMEOUT_MS = 60_000;

/** What a {@link CliProcess} runs, where and as whom. */
export interface CliSpawnOptions {
  /** The built script to run with this Node (a package's `dist/cli.js`). */
  cli: string;
  /** Node's own options, before the script (`--import tsx`). */
  nodeArgs?: readonly string[];
  cwd?: string;
  uid?: number;
  gid?: number;
}

/**
 * A Node program run as a child, with its output collected and its JSON log lines readable:
 * how the tests run a built binary as its users do.
 */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    args: readonly string[],
    env: Record<string, string | undefined>,
    { cli, nodeArgs = [], ...spawnOptions }: CliSpawnOptions,
  ) {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: build its package first`);
    this.child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
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
  waitForLog(msg: string, timeoutMs = PROCESS_READY_TIMEOUT_MS): Promise<Record<string, unknown>> {
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

  /**
   * Waits until stdout matches `pattern` and returns the match; fails at once if the process
   * exits first, with what it wrote.
   */
  waitForOutput(pattern: RegExp, timeoutMs = PROCESS_READY_TIMEOUT_MS): Promise<RegExpExecArray> {
    const find = () => pattern.exec(this.stdout);
    const printed = eventually(
      () => find() ?? fail(`no ${pattern} in stdout yet: ${this.stdout.slice(-2000)}`),
      timeoutMs,
    );
    const exited = this.exited.then(
      ({ code }) =>
        find() ??
        fail(`exited ${code} before printing ${pattern}:\n${this.stdout}\n${this.stderr}`),
    );
    printed.catch(() => {});
    exited.catch(() => {});
    return Promise.race([printed, exited]);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

function fail(message: string): never {
  throw new Error(message);
}
