import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type FakeApiServer, startFakeApiServer } from '../src/index.js';

// A copy of the sidecar app's examples (a package reads no other package's files): every kind
// the watcher serves, with the Secrets, auth configs and CA bundle they refer to.
const EXAMPLES = fileURLToPath(new URL('./fixtures/examples', import.meta.url));
let fake: FakeApiServer;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await runCommand('kubectl', ['--kubeconfig', fake.kubeconfigPath, ...args]);
  return stdout;
}

beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
});
afterAll(async () => {
  await fake?.close();
});

// kubectl is a client nobody here wrote: it must work against the fake as against a cluster.
describe('kubectl against the fake API server', () => {
  it('applies the example manifests with validation, then re-applies them without creating', async () => {
    const applied = await kubectl('apply', '-f', EXAMPLES);
    expect(applied).toContain('mcpserver.toolhive.stacklok.dev/fetch created');
    expect(applied).toContain('secret/github-token created');
    expect(applied).toContain('mcpserverentry.toolhive.stacklok.dev/wiki created');
    const again = await kubectl('apply', '-f', EXAMPLES);
    expect(again).toContain('mcpgroup.toolhive.stacklok.dev/engineering unchanged');
    expect(again).toContain('configmap/internal-ca unchanged');
    expect(again).not.toContain('created');
  });

  it('rejects an invalid manifest with the schema error', async () => {
    const file = join(fake.kubeconfigPath, '..', 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: toolhive.stacklok.dev/v1beta1\nkind: MCPServer\nmetadata:\n  name: bad\nspec:\n  transport: carrier-pigeon\n',
    );
    const failure = await kubectl('apply', '-f', file).catch(
      (error: { stderr: string }) => error.stderr,
    );
    expect(failure).toMatch(/spec\.transport|spec\.image/);
  });

  it('gets objects as YAML with server-set metadata and schema defaults', async () => {
    const object = parse(await kubectl('get', 'mcpserver', 'github', '-o', 'yaml')) as {
      metadata: { uid: string; resourceVersion: string; generation: number };
      spec: { proxyPort: number; transport: string };
    };
    expect(object.metadata.uid).toBeTruthy();
    expect(object.metadata.generation).toBe(1);
    expect(object.spec).toMatchObject({ transport: 'stdio', proxyPort: 8080 });
  });

  it('patches the status subresource and applies a spec change (generation 2)', async () => {
    await kubectl(
      'patch',
      'mcpserver',
      'github',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"Ready","url":"http://github:8080"}}',
    );
    const status = JSON.parse(
      await kubectl('get', 'mcpserver', 'github', '-o', 'jsonpath={.status}'),
    ) as { url: string };
    expect(status.url).toBe('http://github:8080');
    await kubectl(
      'patch',
      'mcpserver',
      'github',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/image","value":"example/github:2"}]',
    );
    expect(
      await kubectl('get', 'mcpserver', 'github', '-o', 'jsonpath={.metadata.generation}'),
    ).toBe('2');
  });

  it('sees a change with get -w, and waits for a deletion', async () => {
    const watch = spawn('kubectl', [
      '--kubeconfig',
      fake.kubeconfigPath,
      'get',
      'mcpservers',
      '-w',
      '--output-watch-events',
    ]);
    let output = '';
    watch.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    try {
      for (let i = 0; i < 100 && !output.includes('pending'); i++)
        await new Promise((r) => setTimeout(r, 50));
      const waiting = kubectl('wait', '--for=delete', 'mcpserver/pending', '--timeout=20s');
      await kubectl('delete', 'mcpserver', 'pending');
      await waiting;
      for (let i = 0; i < 100 && !/DELETED\s+pending/.test(output); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(output).toMatch(/ADDED\s+pending/);
      expect(output).toMatch(/DELETED\s+pending/);
    } finally {
      watch.kill();
    }
    await expect(kubectl('get', 'mcpserver', 'pending')).rejects.toMatchObject({
      stderr: expect.stringContaining('NotFound'),
    });
  });

  it('deletes what it applied', async () => {
    const deleted = await kubectl('delete', '-f', EXAMPLES, '--ignore-not-found');
    expect(deleted).toContain('mcpserverentry.toolhive.stacklok.dev "wiki" deleted');
    expect(await kubectl('get', 'mcpservers', '-o', 'name')).toBe('');
  });
});
