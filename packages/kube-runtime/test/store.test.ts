import { describe, expect, it } from 'vitest';
import { Store } from '../src/store.js';
import { dropApplyMetadata, LAST_APPLIED_ANNOTATION } from '../src/transform.js';
import type { KubeObject } from '../src/types.js';

const obj = (
  name: string,
  resourceVersion: string,
  extra: Partial<KubeObject['metadata']> = {},
  spec: unknown = {},
): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion, uid: `uid-${name}`, ...extra },
  spec,
});

describe('Store', () => {
  it('keys objects by namespace/name, freezes them and drops managedFields', () => {
    const store = new Store();
    store.apply(obj('a', '1', { managedFields: [{ manager: 'kubectl' }] }));
    const found = store.get('ns/a') as KubeObject;
    expect(found.metadata).not.toHaveProperty('managedFields');
    expect(Object.isFrozen(found)).toBe(true);
    expect(Object.isFrozen(found.metadata)).toBe(true);
    expect(store.get({ namespace: 'ns', name: 'a' })).toBe(found);
  });

  it('reports add, update (only when the resourceVersion changed) and delete with the last state', () => {
    const store = new Store();
    expect(store.apply(obj('a', '1'))?.type).toBe('add');
    expect(store.apply(obj('a', '1'))).toBeUndefined();
    expect(store.apply(obj('a', '2'))).toMatchObject({
      type: 'update',
      oldObject: { metadata: { resourceVersion: '1' } },
    });
    expect(store.delete(obj('a', '3'))).toMatchObject({ type: 'delete', finalStateUnknown: false });
    expect(store.delete(obj('a', '3'))).toBeUndefined();
  });

  it('replaces atomically: deletes for vanished keys, updates for changed ones, nothing for the same', () => {
    const store = new Store();
    store.replace([obj('keep', '1'), obj('change', '1'), obj('gone', '1')]);
    const before = store.get('ns/keep');
    const changes = store.replace([obj('keep', '1'), obj('change', '2'), obj('new', '5')]);
    expect(
      changes.map(
        (c) => `${c.type}:${'object' in c ? c.object.metadata.name : c.newObject.metadata.name}`,
      ),
    ).toEqual(['delete:gone', 'update:change', 'add:new']);
    expect(changes[0]).toMatchObject({
      finalStateUnknown: true,
      object: { metadata: { resourceVersion: '1' } },
    });
    expect(store.get('ns/keep')).toBe(before);
    expect(store.keys().sort()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
  });

  it('builds a relist aside object by object: transformed on add, invisible until commit', () => {
    const transformed: string[] = [];
    const store = new Store<KubeObject>((object) => {
      transformed.push(object.metadata.name as string);
      return { ...object, metadata: { ...object.metadata, managedFields: undefined } };
    });
    store.apply(obj('gone', '1'));
    store.apply(obj('keep', '1'));
    transformed.length = 0;
    const replacement = store.beginReplace();
    replacement.add(obj('keep', '1'));
    replacement.add(obj('new', '1'));
    // 'keep' is a version the store holds: kept as cached, not transformed again.
    expect(transformed).toEqual(['new']);
    expect(store.keys().sort()).toEqual(['ns/gone', 'ns/keep']);
    const changes = replacement.commit();
    expect(changes.map((change) => change.type)).toEqual(['delete', 'add']);
    expect(store.keys().sort()).toEqual(['ns/keep', 'ns/new']);
    expect(Object.isFrozen(store.get('ns/new'))).toBe(true);
    expect(() => replacement.commit()).toThrow(/already committed/);
    expect(() => replacement.add(obj('late', '1'))).toThrow(/already committed/);
  });

  it('runs the transform once per object version, on the watch and the relist paths', () => {
    const transformed: string[] = [];
    const store = new Store<KubeObject>((object) => {
      transformed.push(`${object.metadata.name}@${object.metadata.resourceVersion}`);
      return { ...object, metadata: { ...object.metadata, managedFields: undefined } };
    });
    store.replace([obj('a', '1'), obj('b', '1')]);
    const cachedA = store.get('ns/a');
    expect(store.apply(obj('a', '1'))).toBeUndefined(); // a repeated event
    expect(store.replace([obj('a', '1'), obj('b', '2')]).map((c) => c.type)).toEqual(['update']);
    expect(store.get('ns/a')).toBe(cachedA); // the same instance, still frozen
    expect(store.apply(obj('a', '2'))?.type).toBe('update');
    // A recreated object (new UID) under the same name and version string is a new version.
    store.replace([obj('a', '2', { uid: 'other' }), obj('b', '2')]);
    expect(store.delete(obj('b', '3'))?.type).toBe('delete');
    expect(transformed).toEqual(['a@1', 'b@1', 'b@2', 'a@2', 'a@2', 'b@3']);
  });

  it('refuses an object whose key the transform changes', () => {
    const store = new Store<KubeObject>((object) => ({
      ...object,
      metadata: { ...object.metadata, name: 'renamed' },
    }));
    expect(() => store.apply(obj('a', '1'))).toThrow(/changed the object's key from ns\/a/);
    expect(() => store.replace([obj('b', '1')])).toThrow(/changed the object's key/);
    expect(store.size).toBe(0);
  });

  it('delivers a delete whose final state the transform cannot take, with the state it held', () => {
    const store = new Store<KubeObject>((object) => {
      if ((object.spec as { bad?: boolean }).bad) throw new Error('the transform cannot take it');
      return object;
    });
    store.apply(obj('a', '1'));
    const held = store.get('ns/a');
    expect(store.delete(obj('a', '2', {}, { bad: true }))).toEqual({
      type: 'delete',
      object: held,
      finalStateUnknown: true,
    });
    expect(store.size).toBe(0);
  });

  it('turns a UID change under the same name into a delete then an add', () => {
    const store = new Store();
    store.replace([obj('a', '1', { uid: 'one' })]);
    const changes = store.replace([obj('a', '9', { uid: 'two' })]);
    expect(changes.map((c) => c.type)).toEqual(['delete', 'add']);
  });

  it('maintains secondary indexes through adds, updates, deletes and relists', () => {
    const store = new Store();
    store.addIndex('byRef', (o) => {
      const ref = (o.spec as { ref?: string }).ref;
      return ref ? [ref] : [];
    });
    store.apply(obj('a', '1', {}, { ref: 'x' }));
    store.apply(obj('b', '1', {}, { ref: 'x' }));
    expect(
      store
        .byIndex('byRef', 'x')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'b']);
    store.apply(obj('a', '2', {}, { ref: 'y' }));
    expect(store.byIndex('byRef', 'x').map((o) => o.metadata.name)).toEqual(['b']);
    expect(store.byIndex('byRef', 'y').map((o) => o.metadata.name)).toEqual(['a']);
    store.replace([obj('a', '2', {}, { ref: 'y' })]);
    expect(store.byIndex('byRef', 'x')).toEqual([]);
    expect(() => store.byIndex('nope', 'x')).toThrow(/no index/);
  });

  it('leaves an object out of an index whose function throws, and says so', () => {
    const failures: string[] = [];
    const store = new Store(undefined, (index, object, error) =>
      failures.push(`${index}:${object.metadata.name}:${(error as Error).message}`),
    );
    store.addIndex('byRef', (o) => {
      const ref = (o.spec as { ref?: string }).ref;
      if (ref === undefined) throw new Error('no ref');
      return [ref];
    });
    store.apply(obj('a', '1', {}, { ref: 'x' }));
    store.apply(obj('b', '1', {}, {}));
    expect(store.byIndex('byRef', 'x').map((o) => o.metadata.name)).toEqual(['a']);
    expect(store.get('ns/b')).toBeDefined();
    expect(failures).toEqual(['byRef:b:no ref']);
  });

  it('hands out a reader that sees every change and cannot write', () => {
    const store = new Store();
    store.addIndex('byRef', (o) => [(o.spec as { ref: string }).ref]);
    const reader = store.reader();
    expect(store.reader()).toBe(reader);
    store.apply(obj('a', '1', {}, { ref: 'x' }));
    expect(reader.size).toBe(1);
    expect(reader.get({ namespace: 'ns', name: 'a' })).toBe(store.get('ns/a'));
    expect(reader.keys()).toEqual(['ns/a']);
    expect(reader.list()).toEqual(store.list());
    expect(reader.byIndex('byRef', 'x')).toEqual(store.list());
    store.delete(obj('a', '2'));
    expect(reader.size).toBe(0);
    expect(Object.isFrozen(reader)).toBe(true);
    for (const write of ['apply', 'delete', 'replace', 'beginReplace', 'addIndex']) {
      expect(reader).not.toHaveProperty(write);
    }
  });

  it('keys a cluster-scoped object by its name alone', () => {
    const store = new Store();
    store.apply({ metadata: { name: 'global', resourceVersion: '1', uid: 'u' } });
    expect(store.keys()).toEqual(['global']);
    expect(store.get({ namespace: '', name: 'global' })).toBeDefined();
  });

  it('drops both kinds of apply bookkeeping with dropApplyMetadata, and nothing else', () => {
    const store = new Store(dropApplyMetadata);
    const applied = obj(
      'a',
      '1',
      {
        managedFields: [{ manager: 'kubectl' }],
        labels: { app: 'fetch' },
        annotations: { [LAST_APPLIED_ANNOTATION]: '{"spec":{"x":1}}', team: 'tools' },
      },
      { x: 1 },
    );
    const original = structuredClone(applied);
    store.apply(applied);
    expect(store.get('ns/a')).toEqual({
      metadata: {
        name: 'a',
        namespace: 'ns',
        resourceVersion: '1',
        uid: 'uid-a',
        labels: { app: 'fetch' },
        annotations: { team: 'tools' },
      },
      spec: { x: 1 },
    });
    // The object given is not changed (a copy is stored).
    expect(applied).toEqual(original);
    // Without the annotation it drops managedFields only; without either it keeps the object.
    const plain = obj('b', '1', { annotations: { team: 'tools' } });
    expect(dropApplyMetadata(plain)).toBe(plain);
    expect(dropApplyMetadata(obj('c', '1', { managedFields: [] })).metadata).not.toHaveProperty(
      'managedFields',
    );
  });
});
