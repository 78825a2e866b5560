import { describe, expect, it } from 'vitest';
import { CommandError, runCommand } from '../src/index.js';

const node = (code: string) => runCommand(process.execPath, ['-e', code]);

describe('runCommand', () => {
  it('resolves with what the command wrote', async () => {
    await expect(node('process.stdout.write("out"); process.stderr.write("err")')).resolves.toEqual(
      { stdout: 'out', stderr: 'err' },
    );
  });

  it('rejects with the exit code and both streams in the message (pnpm writes errors to stdout)', async () => {
    const failure = await node(
      'console.log(" ERR_PNPM_NO_OFFLINE_META  Failed to resolve"); console.error("a warning"); process.exit(3)',
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandError);
    expect(failure).toMatchObject({ code: 3, signal: null });
    const { message } = failure as CommandError;
    expect(message).toMatch(/exited with 3/);
    expect(message).toContain('--- stderr ---\na warning');
    expect(message).toContain('--- stdout ---\n ERR_PNPM_NO_OFFLINE_META  Failed to resolve');
  });

  it('says when a stream was empty, and keeps the end of a long one', async () => {
    const failure = (await node(
      'process.stdout.write("x".repeat(10000) + "the end"); process.exit(1)',
    ).catch((error: unknown) => error)) as CommandError;
    expect(failure.message).toContain('--- stderr ---\n(empty)');
    expect(failure.message).toMatch(/…x+the end$/);
    expect(failure.message.length).toBeLessThan(4300);
  });

  it('names a signal that killed the command', async () => {
    const failure = await node('process.kill(process.pid, "SIGTERM")').catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ signal: 'SIGTERM' });
    expect((failure as Error).message).toMatch(/was killed by SIGTERM/);
  });

  it('names a command that could not start', async () => {
    const failure = await runCommand('/nonexistent/command', []).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'ENOENT' });
  });
});
