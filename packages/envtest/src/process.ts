import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// The child processes of every environment of this process, and how they never outlive it.

const live = new Set<ChildProcess>();
let exitHooked = false;

/** Kills every child still running when this process exits, or gets SIGINT or SIGTERM. */
export function killChildrenOnExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const killAll = () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

/**
 * util-linux's setpriv, when the machine has it (Debian always does): launched through
 * `setpriv --pdeathsig KILL`, etcd and kube-apiserver are killed by the kernel when this process
 * dies, even by SIGKILL (a test runner's timeout), where no exit hook of ours runs.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

/** Starts `binary` with its output appended to `logPath`; it dies with this process. */
export function launch(binary: string, args: readonly string[], logPath: string): ChildProcess {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = SETPRIV
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Has the child exited (or never been started)? */
export function hasExited(child: ChildProcess | undefined): boolean {
  return child === undefined || child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM (after a SIGCONT, in case it is paused), SIGKILL after 5 s; resolves once it exited. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Waits until every thread of `pid` is stopped. kill(2) returns before a SIGSTOP has stopped
 * the whole thread group: one thread takes the signal and stops the others when it next runs,
 * and on a busy machine other threads went on answering requests for milliseconds meanwhile.
 * Synchronous, like `pause()`; it sleeps 1 ms between looks, and gives up after 5 s.
 */
export function waitStopped(pid: number): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 5_000;
  for (;;) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return; // the process is gone: nothing to wait for
    }
    let running = 0;
    for (const task of tasks) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      } catch {
        continue; // the thread ended meanwhile
      }
      // "tid (comm) S ...": the state follows the last parenthesis (comm may hold any).
      const state = stat.charAt(stat.lastIndexOf(')') + 2);
      if (!['T', 't', 'Z', 'X'].includes(state)) running++;
    }
    if (running === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`the API server (pid ${pid}) did not stop within 5 s of SIGSTOP`);
    }
    Atomics.wait(sleeper, 0, 0, 1);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The last `lines` lines of a log file ('' before it exists). */
export function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
}
