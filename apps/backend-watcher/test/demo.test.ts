import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { eventually } from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';
import { CliProcess, runCli, SIDECAR_READY_TIMEOUT_MS } from './support/process.js';

const EXPECTED = ['bedrock', 'docs', 'fetch', 'github', 'jira', 'wiki'];

/** The registry table rows the demo printed last: `id type transport auth url`. */
function lastTable(stdout: string): string[][] {
  const blocks = stdout.split(/\nregistry version \d+ \(\d+ changes since start\): /);
  const last = blocks.at(-1) ?? '';
  return last
    .split('\n')
    .slice(2)
    .filter((line) => line.startsWith('  '))
    .map((line) => line.trim().split(/\s+/));
}

/** A running demo once it served the examples, with the kubeconfig and address it printed. */
async function servingDemo(demo: CliProcess): Promise<{ kubeconfig: string; url: string }> {
  await eventually(
    () => expect(demo.stdout).toContain('(6 changes since start)'),
    SIDECAR_READY_TIMEOUT_MS,
  );
  const kubeconfig = /kubeconfig: +(\S+)/.exec(demo.stdout)?.[1] ?? '';
  const url = /HTTP API: +(\S+)\/v1\/backends/.exec(demo.stdout)?.[1] ?? '';
  expect(existsSync(kubeconfig)).toBe(true);
  return { kubeconfig, url };
}

describe('vmcp-backend-watcher demo', () => {
  it('serves exactly the examples of group engineering, then stops (--once)', async () => {
    const result = await runCli(['demo', '--once', '--listen', '127.0.0.1:0']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/registry version \d+ \(6 changes since start\): 6 backend\(s\)/);
    const rows = lastTable(result.stdout);
    expect(rows.map((r) => r[0])).toEqual(EXPECTED);
    expect(Object.fromEntries(rows.map((r) => [r[0], r[3]]))).toEqual({
      bedrock: 'aws_sts',
      docs: 'token_exchange',
      fetch: 'unauthenticated',
      github: 'header_injection',
      jira: 'upstream_inject',
      wiki: 'xaa',
    });
    expect(result.stdout).not.toContain('example-not-a-real');
  });

  it('prints a kubeconfig for kubectl, and Ctrl-C removes everything it started', async () => {
    const demo = new CliProcess(['demo', '--listen', '127.0.0.1:0']);
    try {
      const { kubeconfig, url } = await servingDemo(demo);
      const body = (await (await fetch(`${url}/v1/backends`)).json()) as {
        backends: { id: string }[];
      };
      expect(body.backends.map((b) => b.id)).toEqual(EXPECTED);
      demo.kill('SIGINT');
      expect((await demo.exited).code).toBe(0);
      expect(existsSync(dirname(kubeconfig))).toBe(false);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      demo.kill();
    }
  });

  it('removes everything it started on Ctrl-C when its stdout is a closed pipe (demo | tee)', async () => {
    const demo = new CliProcess(['demo', '--listen', '127.0.0.1:0']);
    try {
      const { kubeconfig } = await servingDemo(demo);
      // Ctrl-C on `demo | tee demo.log` stops tee too: every later write of the demo fails (EPIPE).
      demo.child.stdout?.destroy();
      demo.kill('SIGINT');
      const exit = await demo.exited;
      expect(existsSync(dirname(kubeconfig))).toBe(false);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(demo.stderr).toBe('');
    } finally {
      demo.kill();
    }
  });
});
