import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProtobufObject } from '../src/protobuf.js';
import { ApiFailure } from '../src/status.js';
import { lengthDelimited, textField } from '../src/wire.js';

/** Request bodies kubectl 1.32 sent, captured from the wire (hex). */
const SENT = {
  'create namespace demo':
    '6b3873000a0f0a02763112094e616d657370616365121c0a140a0464656d6f12001a0022002a0032003800420012001a020a001a002200',
  'create configmap settings --from-literal=mode=fast --from-literal=empty=':
    '6b3873000a0f0a0276311209436f6e6669674d617012370a1c0a0873657474696e677312001a0464656d6f22002a0032003800420012090a05656d7074791200120c0a046d6f64651204666173741a002200',
  'create configmap bin --from-file=blob=(bin\\0\\xff)':
    '6b3873000a0f0a0276311209436f6e6669674d617012280a170a0362696e12001a0464656d6f22002a003200380042001a0d0a04626c6f62120562696e00ff1a002200',
  'create secret generic token --from-literal=key=s3cr3t':
    '6b3873000a0c0a0276311206536563726574122c0a190a05746f6b656e12001a0464656d6f22002a00320038004200120d0a036b657912067333637233741a001a002200',
  'create secret generic token2 --from-literal=key=x --type=example.com/kind':
    '6b3873000a0c0a027631120653656372657412380a1a0a06746f6b656e3212001a0464656d6f22002a0032003800420012080a036b65791201781a106578616d706c652e636f6d2f6b696e641a002200',
};
const decode = (hex: string) => decodeProtobufObject(Buffer.from(hex, 'hex'));

describe('decodeProtobufObject', () => {
  it.each([
    [
      'create namespace demo',
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' }, spec: {}, status: {} },
    ],
    [
      'create configmap settings --from-literal=mode=fast --from-literal=empty=',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'demo' },
        data: { empty: '', mode: 'fast' },
      },
    ],
    [
      'create configmap bin --from-file=blob=(bin\\0\\xff)',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'bin', namespace: 'demo' },
        binaryData: { blob: Buffer.from('bin\0\xff', 'latin1').toString('base64') },
      },
    ],
    [
      'create secret generic token --from-literal=key=s3cr3t',
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'token', namespace: 'demo' },
        data: { key: Buffer.from('s3cr3t').toString('base64') },
      },
    ],
    [
      'create secret generic token2 --from-literal=key=x --type=example.com/kind',
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'token2', namespace: 'demo' },
        data: { key: Buffer.from('x').toString('base64') },
        type: 'example.com/kind',
      },
    ],
  ] as const)('kubectl %s → the JSON of that object (empty fields left out)', (sent, object) => {
    expect(JSON.parse(JSON.stringify(decode(SENT[sent])))).toEqual(object);
  });

  it('refuses other kinds and fields it does not know with 415, naming them', () => {
    // A ServiceAccount (kubectl create serviceaccount): same envelope, another kind.
    const serviceAccount = SENT['create namespace demo'].replace(
      '0a0f0a02763112094e616d657370616365',
      `0a140a02763112${'0e'}${Buffer.from('ServiceAccount').toString('hex')}`,
    );
    expect(() => decode(serviceAccount)).toThrow(
      expect.objectContaining({
        code: 415,
        message: expect.stringMatching(/not a v1\/ServiceAccount/),
      }),
    );
    // ObjectMeta field 17 (managedFields) is not decoded here.
    const envelope = (raw: Buffer) =>
      Buffer.concat([
        Buffer.from('k8s\0', 'latin1'),
        Buffer.from('0a0f0a0276311209436f6e6669674d6170', 'hex'),
        Buffer.from([0x12, raw.length]),
        raw,
      ]);
    const managed = Buffer.from([0x0a, 0x03, 0x8a, 0x01, 0x00]);
    expect(() => decodeProtobufObject(envelope(managed))).toThrow(
      expect.objectContaining({ code: 415, message: expect.stringMatching(/ObjectMeta field 17/) }),
    );
  });

  it.each([
    ['no prefix', '0a0f0a0276311209436f6e6669674d6170'],
    ['a length past the end', '6b3873000a0f0a0276311209436f6e6669674d617012ff01'],
    ['a varint past the end', '6b3873000a0f0a0276311209436f6e6669674d617012'],
    ['an 11-byte varint', `6b387300${'ff'.repeat(10)}01`],
    ['a wrong wire type', '6b3873000d00000000'],
    ['a string that is not UTF-8', '6b3873000a060a0276311202ffff'],
  ])('answers 400 for %s', (_what, hex) => {
    expect(() => decode(hex)).toThrow(expect.objectContaining({ code: 400 }));
  });

  it('never fails but with a 400 or 415 on any bytes after the prefix', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0', 'latin1'), bytes]));
        } catch (error) {
          expect(error).toBeInstanceOf(ApiFailure);
          expect([400, 415]).toContain((error as ApiFailure).code);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes any ConfigMap data as it was, keys named like Object.prototype members included', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString'));
    fc.assert(
      fc.property(fc.dictionary(key, fc.string(), { maxKeys: 8 }), (data) => {
        const decoded = decodeProtobufObject(configMap('settings', data));
        expect({ ...(decoded.data as object) }).toEqual({ ...data });
        expect(Object.keys(decoded.data ?? {}).sort()).toEqual(Object.keys(data).sort());
      }),
    );
  });
});

/** The protobuf body of a ConfigMap, as kubectl writes one (for the round trip above). */
function configMap(name: string, data: Record<string, string>): Buffer {
  const entries = Object.entries(data).map(([key, value]) =>
    lengthDelimited(2, Buffer.concat([textField(1, key), textField(2, value)])),
  );
  const raw = Buffer.concat([lengthDelimited(1, textField(1, name)), ...entries]);
  const typeMeta = Buffer.concat([textField(1, 'v1'), textField(2, 'ConfigMap')]);
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    lengthDelimited(1, typeMeta),
    lengthDelimited(2, raw),
  ]);
}
