import { KubeConfig } from '@kubernetes/client-node';
import { eventually } from '@vmcp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../src/client.js';
import { APPLY_METADATA_FIELDS } from '../src/drop-before-parse.js';
import { createInformer, InformerFactory } from '../src/informer.js';
import { dropApplyMetadata, keepIdentity, LAST_APPLIED_ANNOTATION } from '../src/transform.js';
import { type KubeObject, type Logger, silentLogger } from '../src/types.js';
import { line, list, ScriptedServer, status, stream, thing } from './scripted-server.js';

const resource = { group: 'test.example', version: 'v1', plural: 'things', kind: 'Thing' };
let server: ScriptedServer;
let stop: AbortController;
afterEach(async () => {
  stop?.abort();
  await server?.close();
});

describe('informer', () => {
  it('syncs, delivers events in order, and turns a relist into deletes for vanished objects', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([thing('a', '1'), thing('b', '1'), thing('c', '1', 'old-uid')], '1'),
      stream([
        line('MODIFIED', thing('a', '2')),
        line('ERROR', { kind: 'Status', code: 410, reason: 'Expired' }),
      ]),
      list([thing('a', '2'), thing('c', '7', 'new-uid'), thing('d', '7')], '7'),
    );
    const informer = createInformer({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      watcher: { backoff: { initialMs: 1 }, watchList: 'never' },
    });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (o, initial) => seen.push(`add:${o.metadata.name}${initial ? ':initial' : ''}`),
      onUpdate: (_old, o) => seen.push(`update:${o.metadata.name}`),
      onDelete: (o, unknown) => seen.push(`delete:${o.metadata.name}${unknown ? ':unknown' : ''}`),
    });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    expect(await informer.waitForSync(stop.signal)).toBe(true);
    await eventually(() => seen.includes('add:d:initial'));
    expect(seen).toEqual([
      'add:a:initial',
      'add:b:initial',
      'add:c:initial',
      'update:a',
      'delete:b:unknown',
      'delete:c:unknown',
      'add:c:initial',
      'add:d:initial',
    ]);
    expect(informer.store.keys().sort()).toEqual(['default/a', 'default/c', 'default/d']);
    expect(informer.lastSyncResourceVersion).toBe('7');
    stop.abort();
    await running;
  });

  it('keeps delivering when a handler throws, and counts it', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([thing('a', '1')], '1'),
      stream([line('ADDED', thing('b', '2'))], { keepOpen: true }),
    );
    const informer = createInformer({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      watcher: { watchList: 'never' },
    });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    informer.addEventHandler({ onAdd: (o) => seen.push(o.metadata.name as string) });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    await eventually(() => seen.length === 2);
    expect(seen).toEqual(['a', 'b']);
    expect(informer.handlerErrors).toBe(2);
    stop.abort();
    await running;
  });

  it('logs and counts an index function that throws, and keeps the object cached', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([thing('a', '1')], '1'),
      stream([line('ADDED', thing('b', '2'))], { keepOpen: true }),
    );
    const logs: { fields: Record<string, unknown>; message: string | undefined }[] = [];
    const logger = {
      ...silentLogger,
      error: (fields: Record<string, unknown> | string, message?: string) => {
        if (typeof fields === 'object') logs.push({ fields, message });
      },
      child: () => logger,
    };
    const informer = createInformer({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      logger,
      watcher: { watchList: 'never' },
    });
    informer.addIndex('byName', (o) => {
      if (o.metadata.name === 'b') throw new Error('index bug');
      return [o.metadata.name as string];
    });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    await eventually(() => informer.store.size === 2);
    expect(informer.indexErrors).toBe(1);
    expect(informer.store.byIndex('byName', 'a')).toHaveLength(1);
    expect(informer.store.byIndex('byName', 'b')).toEqual([]);
    expect(logs).toEqual([
      {
        fields: { index: 'byName', err: 'index bug', object: 'default/b' },
        message: 'index function threw; object not indexed',
      },
    ]);
    expect(informer.store).not.toHaveProperty('apply');
    stop.abort();
    await running;
  });

  it('skips, logs and counts an object the cache cannot take, and goes on', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([{ kind: 'Thing' } as never, thing('a', '1')], '1'),
      stream(
        [
          line('ADDED', { kind: 'Thing', spec: { no: 'metadata' } }),
          line('ADDED', thing('explodes', '2')),
          line('ADDED', thing('b', '3')),
        ],
        { keepOpen: true },
      ),
    );
    const warnings: string[] = [];
    const skippedMetric: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (_fields: unknown, message?: string) => void warnings.push(String(message)),
      child: () => logger,
    };
    const informer = createInformer<KubeObject>({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      logger,
      metrics: {
        relist: () => undefined,
        restart: () => undefined,
        event: () => undefined,
        skipped: (resource) => void skippedMetric.push(resource),
      },
      transform: (object) => {
        if (object.metadata.name === 'explodes') throw new Error('transform bug');
        return object;
      },
      watcher: { watchList: 'never' },
    });
    const seen: string[] = [];
    informer.addEventHandler({ onAdd: (o) => seen.push(o.metadata.name as string) });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    await eventually(() => seen.includes('b'));
    expect(seen).toEqual(['a', 'b']);
    expect(informer.store.keys().sort()).toEqual(['default/a', 'default/b']);
    expect(informer.skippedObjects).toBe(3);
    expect(warnings.filter((w) => w.startsWith('object skipped'))).toHaveLength(3);
    expect(skippedMetric).toEqual(['things', 'things', 'things']);
    stop.abort();
    await running;
  });

  it('applies the transform before the cache, on the list and the watch paths, once per version', async () => {
    server = await ScriptedServer.start();
    const applied = (name: string, rv: string) => ({
      ...thing(name, rv),
      metadata: {
        ...thing(name, rv).metadata,
        annotations: { [LAST_APPLIED_ANNOTATION]: '{"spec":{}}', team: 'tools' },
        managedFields: [{ manager: 'kubectl-client-side-apply' }],
      },
    });
    server.script(
      list([applied('a', '1')], '1'),
      stream(
        [
          line('MODIFIED', applied('a', '2')),
          line('MODIFIED', applied('a', '2')),
          line('DELETED', applied('a', '3')),
          line('ADDED', applied('b', '4')),
        ],
        { keepOpen: true },
      ),
    );
    const transformed: string[] = [];
    const informer = createInformer<KubeObject>({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      transform: (object) => {
        transformed.push(`${object.metadata.name}@${object.metadata.resourceVersion}`);
        return dropApplyMetadata(object);
      },
      watcher: { watchList: 'never' },
    });
    const delivered: KubeObject[] = [];
    informer.addEventHandler({
      onAdd: (o) => delivered.push(o),
      onUpdate: (_old, o) => delivered.push(o),
      onDelete: (o) => delivered.push(o),
    });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    await eventually(() => expect(informer.store.keys()).toEqual(['default/b']));
    expect(transformed).toEqual(['a@1', 'a@2', 'a@3', 'b@4']);
    expect(delivered.map((o) => o.metadata.resourceVersion)).toEqual(['1', '2', '3', '4']);
    for (const object of delivered) {
      expect(object.metadata.annotations).toEqual({ team: 'tools' });
      expect(object.metadata).not.toHaveProperty('managedFields');
      expect(Object.isFrozen(object.metadata)).toBe(true);
    }
    stop.abort();
    await running;
  });

  it('drops fields before parse on the list and watch paths: the transform never sees them, the cache is the same', async () => {
    const applied = (name: string, rv: string) => ({
      ...thing(name, rv),
      metadata: {
        managedFields: [{ manager: 'kubectl-client-side-apply', fieldsV1: { 'f:data': {} } }],
        ...thing(name, rv).metadata,
        annotations: { team: 'tools', [LAST_APPLIED_ANNOTATION]: '{"spec":{"x":"}"}}' },
      },
      spec: { x: '}' },
    });
    const script = () => [
      list([applied('a', '1'), applied('b', '1')], '1'),
      stream(
        [
          line('MODIFIED', applied('a', '2')),
          line('DELETED', applied('b', '3')),
          line('ADDED', applied('c', '4')),
        ],
        { keepOpen: true },
      ),
    ];
    const run = async (dropBeforeParse: boolean) => {
      server = await ScriptedServer.start();
      server.script(...script());
      const seenByTransform: KubeObject[] = [];
      const informer = createInformer<KubeObject>({
        client: new KubeClient(server.kubeConfig()),
        resource,
        namespace: 'default',
        transform: (object) => {
          seenByTransform.push(object);
          return dropApplyMetadata(object);
        },
        ...(dropBeforeParse ? { dropBeforeParse: APPLY_METADATA_FIELDS } : {}),
        watcher: { watchList: 'never' },
      });
      const delivered: KubeObject[] = [];
      informer.addEventHandler({
        onAdd: (o) => delivered.push(o),
        onUpdate: (_old, o) => delivered.push(o),
        onDelete: (o) => delivered.push(o),
      });
      stop = new AbortController();
      const running = informer.run(stop.signal);
      await eventually(() => expect(informer.store.keys()).toEqual(['default/a', 'default/c']));
      stop.abort();
      await running;
      await server.close();
      return { delivered, seenByTransform, cached: informer.store.list() };
    };
    const whole = await run(false);
    const dropped = await run(true);
    expect(dropped.delivered).toEqual(whole.delivered);
    expect(dropped.cached).toEqual(whole.cached);
    expect(dropped.seenByTransform.map((o) => o.metadata.name)).toEqual(['a', 'b', 'a', 'b', 'c']);
    for (const object of dropped.seenByTransform) {
      expect(object.metadata).not.toHaveProperty('managedFields');
      expect(object.metadata.annotations).toEqual({ team: 'tools' });
      expect(object.spec).toEqual({ x: '}' });
    }
    expect(whole.seenByTransform[0]?.metadata).toHaveProperty('managedFields');
  });

  it('refuses, when it is made, to drop before parse what identifies an object', () => {
    expect(() =>
      createInformer({
        kubeConfig: new KubeConfig(),
        resource,
        dropBeforeParse: [['metadata', 'resourceVersion']],
      }),
    ).toThrow(/resourceVersion/);
  });

  it('binds its resource and namespace once: its own lines and its watch', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([thing('a', '1')], '1'),
      status(500, 'InternalError'),
      stream([line('ADDED', thing('b', '2'))], { keepOpen: true }),
    );
    // Each line: the keys of every binding down the child chain, then the line's own fields.
    const lines: string[][] = [];
    const loggerWith = (bound: string[]): Logger => {
      const log = (fields: unknown) =>
        lines.push([
          ...bound,
          ...(typeof fields === 'object' ? Object.keys(fields as object) : []),
        ]);
      return {
        debug: log,
        info: log,
        warn: log,
        error: log,
        child: (bindings) => loggerWith([...bound, ...Object.keys(bindings)]),
      };
    };
    const informer = createInformer({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      logger: loggerWith(['name', 'group']),
      watcher: { backoff: { initialMs: 1 }, watchList: 'never' },
    });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    await eventually(() => informer.store.size === 2);
    // "synced" from the informer, "watch failed; retrying" from its watch.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const keys of lines) {
      expect(keys).toEqual([...new Set(keys)]);
      expect(keys).toEqual(expect.arrayContaining(['name', 'group', 'resource', 'namespace']));
    }
    stop.abort();
    await running;
  });

  it('replays the cache to a handler added after sync', async () => {
    server = await ScriptedServer.start();
    server.script(list([thing('a', '1')], '1'));
    const informer = createInformer<KubeObject>({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      watcher: { watchList: 'never' },
    });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    const late: string[] = [];
    informer.addEventHandler({ onAdd: (o, initial) => late.push(`${o.metadata.name}:${initial}`) });
    expect(late).toEqual(['a:true']);
    stop.abort();
    await running;
  });

  it('returns false from waitForSync when aborted before the first list', async () => {
    server = await ScriptedServer.start();
    server.script(status(500, 'InternalError'));
    const informer = createInformer({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      watcher: { watchList: 'never' },
    });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    const waiting = new AbortController();
    const result = informer.waitForSync(waiting.signal);
    waiting.abort();
    expect(await result).toBe(false);
    stop.abort();
    await running;
  });

  it('shares one informer per resource, namespace and selectors', async () => {
    server = await ScriptedServer.start();
    const factory = new InformerFactory({
      client: new KubeClient(server.kubeConfig()),
      namespace: 'default',
      watcher: { watchList: 'never' },
    });
    expect(factory.informerFor(resource)).toBe(factory.informerFor(resource));
    expect(factory.informerFor(resource, { labelSelector: 'a=b' })).not.toBe(
      factory.informerFor(resource),
    );
    expect(factory.informerFor(resource, { namespace: 'other' })).not.toBe(
      factory.informerFor(resource),
    );
    expect(factory.informerFor(resource, { metadataOnly: true })).not.toBe(
      factory.informerFor(resource),
    );
    const dropping = factory.informerFor(resource, { dropBeforeParse: APPLY_METADATA_FIELDS });
    expect(dropping).not.toBe(factory.informerFor(resource));
    expect(factory.informerFor(resource, { dropBeforeParse: APPLY_METADATA_FIELDS })).toBe(
      dropping,
    );
    expect(factory.informers()).toHaveLength(5);
  });

  it('shares informers per transform too, and gives each its own', async () => {
    server = await ScriptedServer.start();
    const labelled = { ...thing('a', '1'), spec: { x: 1 } };
    labelled.metadata = { ...labelled.metadata, labels: { team: 'tools' } } as never;
    server.script(list([labelled], '1'));
    const factory = new InformerFactory({
      client: new KubeClient(server.kubeConfig()),
      namespace: 'default',
      transform: dropApplyMetadata,
      watcher: { watchList: 'never' },
    });
    const identity = factory.informerFor(resource, { transform: keepIdentity });
    expect(factory.informerFor(resource, { transform: keepIdentity })).toBe(identity);
    expect(factory.informerFor(resource)).not.toBe(identity);
    expect(factory.informerFor(resource, { transform: dropApplyMetadata })).not.toBe(identity);
    stop = new AbortController();
    const running = identity.run(stop.signal);
    await identity.waitForSync(stop.signal);
    // keepIdentity, not the factory's transform: apiVersion, kind and the identity only.
    expect(identity.store.get({ namespace: 'default', name: 'a' })).toEqual(thing('a', '1'));
    stop.abort();
    await running;
  });

  it('keeps metadata only with metadataOnly, even when the server sends whole objects', async () => {
    server = await ScriptedServer.start();
    const whole = (name: string, rv: string) => ({
      ...thing(name, rv),
      data: { big: 'x'.repeat(1000) },
      metadata: { ...thing(name, rv).metadata, managedFields: [{ manager: 'kubectl' }] },
    });
    server.script(
      list([whole('a', '1')], '1'),
      stream([line('MODIFIED', whole('a', '2'))], { keepOpen: true }),
    );
    const informer = createInformer({
      client: new KubeClient(server.kubeConfig()),
      resource,
      namespace: 'default',
      metadataOnly: true,
      watcher: { watchList: 'never' },
    });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.waitForSync(stop.signal);
    await eventually(
      () =>
        informer.store.get({ namespace: 'default', name: 'a' })?.metadata.resourceVersion === '2',
    );
    const cached = informer.store.get({ namespace: 'default', name: 'a' });
    expect(Object.keys(cached ?? {}).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    expect(cached?.metadata).not.toHaveProperty('managedFields');
    expect(server.requests.map((url) => url.pathname)).toContain(
      '/apis/test.example/v1/namespaces/default/things',
    );
    stop.abort();
    await running;
  });
});
