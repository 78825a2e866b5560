import type { KubeConfig, User } from '@kubernetes/client-node';
import {
  type ApiError,
  KubeClient,
  type KubeObject,
  ResourceClient,
  type ResourceRef,
} from '@vmcp/kube-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKubectl } from './behaviour-kubectl.js';

/** An API server under test: the fake one or envtest's real one. */
export interface Target {
  kubeConfig: KubeConfig;
  /** The same credentials as a file, for kubectl. */
  kubeconfigPath: string;
  stop(): Promise<void>;
}

const MCPSERVER: ResourceRef = {
  group: 'toolhive.stacklok.dev',
  version: 'v1beta1',
  plural: 'mcpservers',
  kind: 'MCPServer',
};
const CONFIGMAP: ResourceRef = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
};
const API = 'toolhive.stacklok.dev/v1beta1';

const server = (
  name: string,
  extra: Record<string, unknown> = {},
  labels?: Record<string, string>,
) =>
  ({
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { image: 'example/mcp:1', transport: 'sse', ...extra },
  }) as KubeObject;

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('expected the request to fail');
}

/** Reads a watch stream's events until `count` arrived or the stream ends. */
async function readEvents(
  client: KubeClient,
  path: string,
  count: number,
  timeoutMs = 15_000,
): Promise<{ type: string; object: KubeObject }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: { type: string; object: KubeObject }[] = [];
  try {
    const response = await client.stream(path, controller.signal);
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) events.push(JSON.parse(line));
        if (events.length >= count) return events;
        newline = buffer.indexOf('\n');
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

/**
 * The behaviour both API servers must share. A difference is a bug in the fake unless its README
 * lists it as an omission.
 */
export function behaviourSuite(name: string, start: () => Promise<Target>): void {
  describe(`API server behaviour: ${name}`, () => {
    let target: Target;
    let client: KubeClient;
    let servers: ResourceClient;
    let configMaps: ResourceClient;
    let namespace: string;
    beforeAll(async () => {
      target = await start();
      client = new KubeClient(target.kubeConfig);
      namespace = `behaviour-${Date.now().toString(36)}`;
      await client.requestJson('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      });
      servers = new ResourceClient(client, MCPSERVER, namespace);
      configMaps = new ResourceClient(client, CONFIGMAP, namespace);
    });
    afterAll(async () => {
      await client?.close();
      await target?.stop();
    });

    it('creates with uid, creationTimestamp, generation 1 and a resourceVersion', async () => {
      const created = await servers.create(server('create-me'));
      expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(created.metadata.generation).toBe(1);
      expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
      expect(created.metadata.namespace).toBe(namespace);
      const read = await servers.get('create-me');
      expect(read).toEqual(created);
    });

    it('answers a duplicate create with 409 AlreadyExists and a missing object with 404 NotFound', async () => {
      await servers.create(server('dup'));
      const dup = await failure(servers.create(server('dup')));
      expect(dup.code).toBe(409);
      expect(dup.reason).toBe('AlreadyExists');
      expect(dup.status.details).toMatchObject({
        name: 'dup',
        group: 'toolhive.stacklok.dev',
        kind: 'mcpservers',
      });
      const missing = await failure(servers.get('nobody'));
      expect(missing.code).toBe(404);
      expect(missing.reason).toBe('NotFound');
      expect(missing.message).toContain('mcpservers.toolhive.stacklok.dev "nobody" not found');
    });

    it('rejects a stale resourceVersion with 409 Conflict', async () => {
      const created = await servers.create(server('stale'));
      await servers.patch('stale', { spec: { image: 'example/mcp:2' } });
      const conflict = await failure(servers.replace(created));
      expect(conflict.code).toBe(409);
      expect(conflict.reason).toBe('Conflict');
    });

    it('bumps generation on spec changes only, and status writes leave spec alone', async () => {
      await servers.create(server('gen'));
      const patched = await servers.patch('gen', { spec: { image: 'example/mcp:2' } });
      expect(patched.metadata.generation).toBe(2);
      const labelled = await servers.patch('gen', { metadata: { labels: { a: 'b' } } });
      expect(labelled.metadata.generation).toBe(2);
      const status = await servers.patchStatus('gen', {
        status: { phase: 'Ready', url: 'http://gen:8080' },
      });
      expect(status.metadata.generation).toBe(2);
      expect((status.spec as { image: string }).image).toBe('example/mcp:2');
      // A status field sent to the main resource is ignored, and vice versa.
      const ignored = await servers.patch('gen', {
        status: { phase: 'Failed' },
        spec: { image: 'example/mcp:3' },
      });
      expect((ignored.status as { phase: string }).phase).toBe('Ready');
      const specIgnored = await servers.patchStatus('gen', { spec: { image: 'example/mcp:4' } });
      expect((specIgnored.spec as { image: string }).image).toBe('example/mcp:3');
    });

    it('does not move the resourceVersion for an update that changes nothing', async () => {
      const created = await servers.create(server('noop'));
      const same = await servers.replace(created);
      expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    });

    it('applies merge patches and JSON patches', async () => {
      await servers.create(server('patchy', { args: ['a', 'b'] }));
      const merged = await servers.patch('patchy', { spec: { args: ['c'], proxyPort: 9000 } });
      expect(merged.spec).toMatchObject({ args: ['c'], proxyPort: 9000 });
      const json = await servers.patch(
        'patchy',
        [
          { op: 'add', path: '/spec/args/-', value: 'd' },
          { op: 'remove', path: '/spec/proxyPort' },
          { op: 'test', path: '/spec/image', value: 'example/mcp:1' },
        ],
        'json',
      );
      expect((json.spec as { args: string[] }).args).toEqual(['c', 'd']);
      // Removed, then defaulted again from the schema (8080).
      expect((json.spec as { proxyPort?: number }).proxyPort).toBe(8080);
    });

    it('validates custom resources against the CRD schema: types, required fields, enums', async () => {
      const wrongType = await failure(servers.create(server('bad-type', { proxyPort: 'many' })));
      expect(wrongType.code).toBe(422);
      expect(wrongType.reason).toBe('Invalid');
      expect(wrongType.message).toContain('spec.proxyPort');
      const missing = await failure(
        servers.create({
          apiVersion: API,
          kind: 'MCPServer',
          metadata: { name: 'bad-missing' },
          spec: { transport: 'sse' },
        } as KubeObject),
      );
      expect(missing.code).toBe(422);
      expect(missing.message).toContain('spec.image');
      const badEnum = await failure(
        servers.create(server('bad-enum', { transport: 'carrier-pigeon' })),
      );
      expect(badEnum.code).toBe(422);
      expect(badEnum.message).toContain('spec.transport');
    });

    it('prunes unknown fields and applies schema defaults', async () => {
      const created = await servers.create(
        server('pruned', { unknownField: 'x', transport: undefined }) as KubeObject,
      );
      expect((created.spec as Record<string, unknown>).unknownField).toBeUndefined();
      expect((created.spec as { transport: string }).transport).toBe('stdio');
    });

    it('validates object names', async () => {
      const bad = await failure(servers.create(server('Not_A_Name')));
      expect(bad.code).toBe(422);
      expect(bad.message).toContain('metadata.name');
    });

    it('deletes, after which the object is gone', async () => {
      await servers.create(server('doomed'));
      await servers.delete('doomed');
      expect((await failure(servers.get('doomed'))).code).toBe(404);
      expect((await failure(servers.delete('doomed'))).code).toBe(404);
    });

    it('selects by label and by metadata.name / metadata.namespace fields', async () => {
      await servers.create(server('sel-a', {}, { tier: 'gold', team: 'x' }));
      await servers.create(server('sel-b', {}, { tier: 'silver', team: 'x' }));
      await servers.create(server('sel-c', {}, { team: 'y' }));
      const names = async (options: Record<string, string>) =>
        (await servers.list(options)).items
          .map((o) => o.metadata.name)
          .filter((n) => n?.startsWith('sel-'));
      expect(await names({ labelSelector: 'tier=gold' })).toEqual(['sel-a']);
      expect(await names({ labelSelector: 'team=x,tier!=gold' })).toEqual(['sel-b']);
      expect(await names({ labelSelector: 'tier in (gold,silver)' })).toEqual(['sel-a', 'sel-b']);
      expect(await names({ labelSelector: '!tier' })).toEqual(['sel-c']);
      expect(await names({ fieldSelector: 'metadata.name=sel-c' })).toEqual(['sel-c']);
      expect(
        await names({ fieldSelector: `metadata.namespace=${namespace},metadata.name!=sel-a` }),
      ).toEqual(['sel-b', 'sel-c']);
    });

    it('paginates lists with limit and continue tokens', async () => {
      for (let i = 0; i < 7; i++) {
        await configMaps.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `page-${i}` },
          data: { i: `${i}` },
        } as KubeObject);
      }
      const seen: string[] = [];
      let page = await configMaps.listPage({ limit: 3, labelSelector: '' });
      const firstRv = page.metadata.resourceVersion;
      seen.push(...page.items.map((o) => o.metadata.name ?? ''));
      expect(page.items).toHaveLength(3);
      expect(page.metadata.continue).toBeTruthy();
      while (page.metadata.continue) {
        page = await configMaps.listPage({ limit: 3, continue: page.metadata.continue });
        expect(page.metadata.resourceVersion).toBe(firstRv);
        seen.push(...page.items.map((o) => o.metadata.name ?? ''));
      }
      expect(seen.filter((n) => n.startsWith('page-'))).toEqual(
        Array.from({ length: 7 }, (_, i) => `page-${i}`),
      );
      const bad = await failure(configMaps.listPage({ limit: 3, continue: 'not-a-token' }));
      expect(bad.code).toBe(400);
    });

    it('watches from a list resourceVersion: ADDED, MODIFIED, DELETED in order', async () => {
      const list = await servers.list();
      const path = `/apis/${API}/namespaces/${namespace}/mcpservers?watch=true&resourceVersion=${list.metadata.resourceVersion}`;
      const events = readEvents(client, path, 3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await servers.create(server('watched'));
      await servers.patch('watched', { spec: { image: 'example/mcp:9' } });
      await servers.delete('watched');
      const seen = await events;
      expect(seen.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
        'ADDED watched',
        'MODIFIED watched',
        'DELETED watched',
      ]);
      const rvs = seen.map((e) => Number(e.object.metadata.resourceVersion));
      expect(rvs[1]).toBeGreaterThan(rvs[0] as number);
      expect(rvs[2]).toBeGreaterThan(rvs[1] as number);
    });

    it('starts a watch without a resourceVersion with the current objects as ADDED', async () => {
      await configMaps.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'initial', labels: { w: 'init' } },
      } as KubeObject);
      const events = await readEvents(
        client,
        `/api/v1/namespaces/${namespace}/configmaps?watch=1&labelSelector=w%3Dinit`,
        1,
      );
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED initial']);
    });

    it('filters watch events by label, turning a change out of the selector into DELETED', async () => {
      await configMaps.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'mover', labels: { sel: 'in' } },
      } as KubeObject);
      const rv = (await configMaps.list()).metadata.resourceVersion;
      const events = readEvents(
        client,
        `/api/v1/namespaces/${namespace}/configmaps?watch=1&labelSelector=sel%3Din&resourceVersion=${rv}`,
        2,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await configMaps.patch('mover', { metadata: { labels: { sel: 'out' } } });
      await configMaps.patch('mover', { metadata: { labels: { sel: 'in' } } });
      expect((await events).map((e) => e.type)).toEqual(['DELETED', 'ADDED']);
    });

    it('answers a watch from a resourceVersion older than its history with 410 Gone in the stream', async () => {
      const events = await readEvents(
        client,
        `/apis/${API}/namespaces/${namespace}/mcpservers?watch=true&resourceVersion=2`,
        1,
      );
      expect(events[0]?.type).toBe('ERROR');
      expect(events[0]?.object).toMatchObject({ kind: 'Status', code: 410 });
    });

    it('ends a watch at timeoutSeconds', async () => {
      const started = Date.now();
      const events = await readEvents(
        client,
        `/api/v1/namespaces/${namespace}/configmaps?watch=1&timeoutSeconds=1&resourceVersion=${(await configMaps.list()).metadata.resourceVersion}`,
        100,
        10_000,
      );
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(events.every((e) => e.type === 'BOOKMARK' || e.type === 'ADDED')).toBe(true);
    });

    it('refuses a watch whose timeoutSeconds is not an integer with 400 BadRequest', async () => {
      for (const timeout of ['abc', '1.5', '1e3']) {
        const error = await failure(
          client.stream(
            `/api/v1/namespaces/${namespace}/configmaps?watch=1&timeoutSeconds=${timeout}`,
            AbortSignal.timeout(10_000),
          ),
        );
        expect(error).toMatchObject({ code: 400, reason: 'BadRequest' });
      }
    });

    it('keeps Secrets base64 and turns stringData into data', async () => {
      const secrets = new ResourceClient(
        client,
        { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
        namespace,
      );
      const created = await secrets.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        stringData: { key: 'value' },
      } as KubeObject);
      expect(created.data).toEqual({ key: Buffer.from('value').toString('base64') });
      expect(created.stringData).toBeUndefined();
      expect(created.type).toBe('Opaque');
    });

    it('serves metadata only (PartialObjectMetadata) on get, list and watch when asked', async () => {
      const metadataOnly = new ResourceClient(client, CONFIGMAP, namespace, { metadataOnly: true });
      await configMaps.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'meta-only', labels: { suite: 'meta' }, annotations: { a: 'b' } },
        data: { 'ca.crt': 'x'.repeat(4096) },
      } as KubeObject);
      const one = await metadataOnly.get('meta-only');
      expect(one).toMatchObject({
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: {
          name: 'meta-only',
          namespace,
          labels: { suite: 'meta' },
          annotations: { a: 'b' },
          resourceVersion: expect.stringMatching(/^\d+$/),
          uid: expect.any(String),
        },
      });
      expect(Object.keys(one).sort()).toEqual(['apiVersion', 'kind', 'metadata']);

      const list = await metadataOnly.listPage({ labelSelector: 'suite=meta' });
      expect(list).toMatchObject({
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
      });
      expect(list.items).toEqual([one]);

      const controller = new AbortController();
      const watch = await metadataOnly.watch(
        { resourceVersion: list.metadata.resourceVersion, labelSelector: 'suite=meta' },
        controller.signal,
      );
      const lines: string[] = [];
      const read = (async () => {
        let buffer = '';
        for await (const chunk of watch.body) {
          buffer += chunk.toString('utf8');
          if (buffer.includes('\n')) {
            lines.push(buffer.slice(0, buffer.indexOf('\n')));
            controller.abort();
          }
        }
      })().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await configMaps.patch('meta-only', { data: { 'ca.crt': 'rotated' } });
      await read;
      const event = JSON.parse(lines[0] ?? '{}');
      expect(event).toMatchObject({
        type: 'MODIFIED',
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1' },
      });
      expect(event.object).not.toHaveProperty('data');
      expect(Number(event.object.metadata.resourceVersion)).toBeGreaterThan(
        Number(one.metadata.resourceVersion),
      );
    });

    it('answers 406 NotAcceptable for metadata of one object asked of a list', async () => {
      const error = await failure(
        client.requestJson('GET', `/api/v1/namespaces/${namespace}/configmaps`, {
          accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
        }),
      );
      expect(error.code).toBe(406);
      expect(error.reason).toBe('NotAcceptable');
    });

    it('takes keys named like Object.prototype members as ordinary keys', async () => {
      const secrets = new ResourceClient(
        client,
        { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
        namespace,
      );
      // JSON.parse makes `__proto__` an own key, as the wire has it.
      const body = JSON.parse(
        '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"proto-keys"},"stringData":{"__proto__":"p","constructor":"c"}}',
      );
      const created = await secrets.create(body);
      expect(Object.keys(created.data as object).sort()).toEqual(['__proto__', 'constructor']);
      expect(Object.hasOwn(created.data as object, 'toString')).toBe(false);

      await configMaps.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'proto-keys', labels: { suite: 'proto' } },
        data: { a: '1' },
      } as KubeObject);
      const patched = await configMaps.patch(
        'proto-keys',
        JSON.parse('{"data":{"__proto__":"p","toString":"t"}}'),
      );
      expect(Object.keys(patched.data as object).sort()).toEqual(['__proto__', 'a', 'toString']);
      expect(Object.getPrototypeOf(patched.data)).toBe(Object.prototype);
      const read = await configMaps.get('proto-keys');
      expect(JSON.parse(JSON.stringify(read.data))).toEqual(
        JSON.parse('{"__proto__":"p","a":"1","toString":"t"}'),
      );
      expect(({} as Record<string, unknown>).p).toBeUndefined();

      const jsonPatched = await configMaps.patch(
        'proto-keys',
        [{ op: 'add', path: '/data/constructor', value: 'c' }],
        'json',
      );
      expect(Object.hasOwn(jsonPatched.data as object, 'constructor')).toBe(true);
      const missing = await failure(
        configMaps.patch('proto-keys', [{ op: 'remove', path: '/data/valueOf' }], 'json'),
      );
      expect(missing.code).toBe(422);
    });

    it('matches a label selector on own label keys only', async () => {
      await configMaps.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'proto-labels', labels: { suite: 'proto-labels' } },
      } as KubeObject);
      const names = async (labelSelector: string) =>
        (await configMaps.list({ labelSelector })).items.map((item) => item.metadata.name);
      expect(await names('suite=proto-labels,constructor')).toEqual([]);
      expect(await names('suite=proto-labels,!toString')).toEqual(['proto-labels']);
      expect(await names('suite=proto-labels,hasOwnProperty notin (x)')).toEqual(['proto-labels']);
      expect(await names('suite=proto-labels,valueOf in (x)')).toEqual([]);
    });

    it('prunes unknown custom resource fields named like Object.prototype members', async () => {
      const created = await servers.create(
        JSON.parse(
          `{"apiVersion":"${API}","kind":"MCPServer","metadata":{"name":"proto-fields"},"spec":{"image":"example/mcp:1","constructor":{"x":1},"__proto__":{"y":2},"toString":"s"}}`,
        ),
      );
      expect(Object.keys(created.spec as object).sort()).not.toContain('constructor');
      expect(Object.hasOwn(created.spec as object, '__proto__')).toBe(false);
      expect(Object.hasOwn(created.spec as object, 'toString')).toBe(false);
      expect((created.spec as { image: string }).image).toBe('example/mcp:1');
    });

    it('refuses objects in a namespace that does not exist', async () => {
      const elsewhere = new ResourceClient(client, CONFIGMAP, 'no-such-namespace');
      const error = await failure(
        elsewhere.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'x' },
        } as KubeObject),
      );
      expect(error.code).toBe(404);
      expect(error.reason).toBe('NotFound');
    });

    it('serves discovery for the core group and the CRD groups', async () => {
      const core = await client.requestJson<{ resources: { name: string }[] }>('GET', '/api/v1');
      expect(core.resources.map((r) => r.name)).toEqual(
        expect.arrayContaining(['configmaps', 'secrets', 'namespaces']),
      );
      const groups = await client.requestJson<{ groups: { name: string }[] }>('GET', '/apis');
      expect(groups.groups.map((g) => g.name)).toEqual(
        expect.arrayContaining(['toolhive.stacklok.dev', 'apiextensions.k8s.io']),
      );
      const toolhive = await client.requestJson<{ resources: { name: string }[] }>(
        'GET',
        `/apis/${API}`,
      );
      expect(toolhive.resources.map((r) => r.name)).toEqual(
        expect.arrayContaining(['mcpservers', 'mcpservers/status', 'mcpexternalauthconfigs']),
      );
    });

    it('answers health and version without credentials, and forbids the rest to them', async () => {
      const anonymous = new KubeClient(withoutCredentials(target.kubeConfig));
      try {
        for (const path of ['/healthz', '/livez', '/readyz']) {
          const response = await anonymous.stream(path, AbortSignal.timeout(10_000), path);
          let text = '';
          for await (const chunk of response.body) text += String(chunk);
          expect(text).toBe('ok');
        }
        const version = await anonymous.requestJson<{ major: string }>('GET', '/version');
        expect(version.major).toBe('1');
        for (const path of ['/api/v1/namespaces', `/apis/${API}/namespaces/default/mcpservers`]) {
          expect((await failure(anonymous.requestJson('GET', path))).code).toBe(403);
        }
      } finally {
        await anonymous.close();
      }
    });

    it('requires a valid bearer token', async () => {
      const response = await fetch(`${client.server}/api/v1/namespaces`, {
        headers: { authorization: 'Bearer wrong' },
        // envtest serves HTTPS with its own CA; this test only needs the status code.
      }).catch(() => undefined);
      if (response !== undefined) expect(response.status).toBe(401);
      const anonymous = await failure(
        new KubeClient(withToken(target.kubeConfig, 'not-a-token')).requestJson(
          'GET',
          '/api/v1/namespaces',
        ),
      );
      expect(anonymous.code).toBe(401);
    });

    describeKubectl(() => target);
  });
}

/** The same cluster, as a user who sends no credentials (an anonymous request). */
function withoutCredentials(kubeConfig: KubeConfig): KubeConfig {
  return withUser(kubeConfig, (user) => ({ name: user.name }));
}

function withToken(kubeConfig: KubeConfig, token: string): KubeConfig {
  return withUser(kubeConfig, (user) => ({ ...user, token }));
}

/** A copy of the kubeconfig whose current user is replaced by `change(user)`. */
function withUser(kubeConfig: KubeConfig, change: (user: User) => User): KubeConfig {
  const copy = Object.create(Object.getPrototypeOf(kubeConfig)) as KubeConfig;
  Object.assign(copy, kubeConfig);
  const current = kubeConfig.getCurrentUser();
  copy.users = kubeConfig.users.map((u) => (u === current ? change(u) : u));
  return copy;
}
