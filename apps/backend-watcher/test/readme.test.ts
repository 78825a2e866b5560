import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type FakeApiServer, readYamlObjects, startFakeApiServer } from '@vmcp/fake-apiserver';
import { runExample } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

let fake: FakeApiServer;
beforeAll(async () => {
  // The package's example manifests (what `demo` applies), in the example's namespace.
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths, namespace: 'tools' });
  fake.load([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tools' } }]);
  for (const name of readdirSync(EXAMPLES).filter((file) => file.endsWith('.yaml')))
    fake.load(readYamlObjects(`${EXAMPLES}${name}`));
});
afterAll(async () => {
  await fake?.close();
});

describe('the README library example, run', () => {
  it('serves the backends of the group from the kubeconfig of $KUBECONFIG, then closes', async () => {
    const example = runExample(new URL('../examples/library.ts', import.meta.url), {
      KUBECONFIG: fake.kubeconfigPath,
    });
    expect(await example.exited).toEqual({ code: 0, signal: null });
    expect(example.stdout).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+ \[ 'bedrock', 'docs', 'fetch', 'github', 'jira', 'wiki' \]\n$/,
    );
  });
});
