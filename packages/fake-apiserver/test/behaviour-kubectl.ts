import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { CommandError, runCommand } from '@vmcp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from './behaviour.js';

const CORE = { group: '', version: 'v1' };

/**
 * What kubectl (the one on PATH, 1.32 here) does against the server: `create` of built-in kinds
 * sends their objects as protobuf, `apply` sends JSON and patches, and `apply -f` of a `List`
 * with validation on reads the OpenAPI v2 document as protobuf first. Part of the behaviour
 * suite, so it runs on both servers.
 */
export function describeKubectl(target: () => Target): void {
  describe('kubectl', () => {
    let dir: string;
    let client: KubeClient;
    const namespace = `kubectl-${Date.now().toString(36)}`;
    const kubectl = async (...args: string[]) =>
      (await runCommand('kubectl', ['--kubeconfig', target().kubeconfigPath, ...args])).stdout;
    const get = (plural: string, kind: string, name: string) =>
      new ResourceClient(client, { ...CORE, plural, kind }, namespace).get(name);
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'vmcp-kubectl-'));
      client = new KubeClient(target().kubeConfig);
    });
    afterAll(async () => {
      await client?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('creates a namespace, a configmap and a secret (bodies in protobuf)', async () => {
      expect(await kubectl('create', 'namespace', namespace)).toBe(
        `namespace/${namespace} created\n`,
      );
      const blob = join(dir, 'blob.bin');
      writeFileSync(blob, Buffer.from([0x62, 0x69, 0x6e, 0x00, 0xff]));
      const created = [
        await kubectl(
          '-n',
          namespace,
          'create',
          'configmap',
          'settings',
          '--from-literal=mode=fast',
          '--from-literal=empty=',
          `--from-file=blob=${blob}`,
        ),
        await kubectl(
          '-n',
          namespace,
          'create',
          'secret',
          'generic',
          'token',
          '--from-literal=key=s3cr3t',
        ),
      ];
      expect(created).toEqual(['configmap/settings created\n', 'secret/token created\n']);
      expect(await get('configmaps', 'ConfigMap', 'settings')).toMatchObject({
        metadata: { name: 'settings', namespace, uid: expect.any(String) },
        data: { mode: 'fast', empty: '' },
        binaryData: { blob: 'YmluAP8=' },
      });
      expect(await get('secrets', 'Secret', 'token')).toMatchObject({
        data: { key: Buffer.from('s3cr3t').toString('base64') },
        type: 'Opaque',
      });
    });

    it('applies built-in kinds: created, unchanged, then configured', async () => {
      const manifest = (value: string) =>
        file(
          'settings.yaml',
          `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: ${namespace}\ndata:\n  mode: ${value}\n`,
        );
      expect(await kubectl('apply', '-f', manifest('fast'))).toBe('configmap/applied created\n');
      expect(await kubectl('apply', '-f', manifest('fast'))).toBe('configmap/applied unchanged\n');
      expect(await kubectl('apply', '-f', manifest('slow'))).toBe('configmap/applied configured\n');
      expect(((await get('configmaps', 'ConfigMap', 'applied')) as KubeObject).data).toEqual({
        mode: 'slow',
      });
    });

    it('applies a List with validation on, and refuses one whose item is invalid, naming the field', async () => {
      const list = (transport: string) =>
        file(
          'list.yaml',
          [
            'apiVersion: v1',
            'kind: List',
            'items:',
            '- apiVersion: v1',
            '  kind: ConfigMap',
            `  metadata: {name: listed, namespace: ${namespace}}`,
            '  data: {mode: fast}',
            '- apiVersion: toolhive.stacklok.dev/v1beta1',
            '  kind: MCPServer',
            `  metadata: {name: listed, namespace: ${namespace}}`,
            `  spec: {image: example/mcp:1, transport: ${transport}}`,
            '',
          ].join('\n'),
        );
      expect(await kubectl('apply', '--validate=true', '-f', list('sse'))).toBe(
        'configmap/listed created\nmcpserver.toolhive.stacklok.dev/listed created\n',
      );
      expect(await kubectl('apply', '--validate=true', '-f', list('sse'))).toBe(
        'configmap/listed unchanged\nmcpserver.toolhive.stacklok.dev/listed unchanged\n',
      );
      const refused = await kubectl('apply', '--validate=true', '-f', list('carrier-pigeon')).catch(
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(CommandError);
      expect((refused as CommandError).stderr).toMatch(/spec\.transport/);
    });
  });
}
