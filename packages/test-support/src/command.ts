import { type ExecFileOptions, execFile } from 'node:child_process';

/** How much of each stream a {@link CommandError}'s message keeps (the end of it). */
const TAIL_CHARS = 4000;

/** A command run by {@link runCommand} that failed: its exit, and what it wrote. */
export class CommandError extends Error {
  override readonly name = 'CommandError';

  constructor(
    readonly command: string,
    readonly code: number | string | null,
    readonly signal: string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(
      `${command} ${signal === null ? `exited with ${code}` : `was killed by ${signal}`}\n` +
        `--- stderr ---\n${tail(stderr)}\n--- stdout ---\n${tail(stdout)}`,
    );
  }
}

const tail = (text: string) =>
  text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text || '(empty)';

/**
 * Runs a command to completion and resolves with its output; a failure rejects with a
 * {@link CommandError} whose message carries the ends of both stderr and stdout (pnpm, among
 * others, writes its errors to stdout, so a message holding only stderr can say nothing).
 *
 * @example
 * const { stdout } = await runCommand('kubectl', ['--kubeconfig', path, 'get', 'ns']);
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: ExecFileOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024, ...options, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        const failure = error as NodeJS.ErrnoException & { signal?: string | null };
        reject(
          new CommandError(
            [file, ...args].join(' '),
            failure.code ?? null,
            failure.signal ?? null,
            stdout,
            stderr,
          ),
        );
      },
    );
  });
}
