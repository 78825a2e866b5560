import { ApiFailure } from './status.js';
import type { KubeObject } from './types.js';

/**
 * Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) of the built-in objects
 * kubectl creates with it: `kubectl create namespace|configmap|secret` send their object as
 * protobuf, whatever the server advertises (client-go's typed clients choose the encoding, and
 * fall back to JSON for nothing but CBOR). Decoded into the JSON the same object has, so that
 * the rest of the server sees one format.
 *
 * The body is kube-apiserver's envelope: the magic bytes `k8s\0`, then a `runtime.Unknown`
 * (`typeMeta`, `raw`, `contentEncoding`, `contentType`) whose `raw` is the object's message. The
 * messages below hold the field numbers and types of Kubernetes' published definitions
 * (`k8s.io/apimachinery/pkg/runtime/generated.proto`, `.../apis/meta/v1/generated.proto`,
 * `k8s.io/api/core/v1/generated.proto`) for the fields these kinds have. A field this table does
 * not know, or another kind, is refused with 415 (send it as JSON), never dropped; bytes that are
 * not a well-formed message are a 400.
 */

type Field =
  | { name: string; type: 'string' | 'bytes' | 'int64' | 'bool' | 'time' }
  | { name: string; type: 'strings' }
  | { name: string; type: 'map'; values: 'string' | 'bytes' }
  | { name: string; type: 'message'; message: Message; repeated?: true };
/** A message: its fields by number. */
type Message = { readonly name: string; readonly fields: Readonly<Record<number, Field>> };

const OWNER_REFERENCE: Message = {
  name: 'OwnerReference',
  fields: {
    1: { name: 'kind', type: 'string' },
    3: { name: 'name', type: 'string' },
    4: { name: 'uid', type: 'string' },
    5: { name: 'apiVersion', type: 'string' },
    6: { name: 'controller', type: 'bool' },
    7: { name: 'blockOwnerDeletion', type: 'bool' },
  },
};

const OBJECT_META: Message = {
  name: 'ObjectMeta',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'generateName', type: 'string' },
    3: { name: 'namespace', type: 'string' },
    4: { name: 'selfLink', type: 'string' },
    5: { name: 'uid', type: 'string' },
    6: { name: 'resourceVersion', type: 'string' },
    7: { name: 'generation', type: 'int64' },
    8: { name: 'creationTimestamp', type: 'time' },
    9: { name: 'deletionTimestamp', type: 'time' },
    10: { name: 'deletionGracePeriodSeconds', type: 'int64' },
    11: { name: 'labels', type: 'map', values: 'string' },
    12: { name: 'annotations', type: 'map', values: 'string' },
    13: { name: 'ownerReferences', type: 'message', message: OWNER_REFERENCE, repeated: true },
    14: { name: 'finalizers', type: 'strings' },
  },
};

const metadata: Field = { name: 'metadata', type: 'message', message: OBJECT_META };

/** The objects decoded, by `apiVersion/kind`. */
const OBJECTS: ReadonlyMap<string, Message> = new Map<string, Message>([
  [
    'v1/Namespace',
    {
      name: 'Namespace',
      fields: {
        1: metadata,
        2: {
          name: 'spec',
          type: 'message',
          message: {
            name: 'NamespaceSpec',
            fields: { 1: { name: 'finalizers', type: 'strings' } },
          },
        },
        3: {
          name: 'status',
          type: 'message',
          message: { name: 'NamespaceStatus', fields: { 1: { name: 'phase', type: 'string' } } },
        },
      },
    },
  ],
  [
    'v1/ConfigMap',
    {
      name: 'ConfigMap',
      fields: {
        1: metadata,
        2: { name: 'data', type: 'map', values: 'string' },
        3: { name: 'binaryData', type: 'map', values: 'bytes' },
        4: { name: 'immutable', type: 'bool' },
      },
    },
  ],
  [
    'v1/Secret',
    {
      name: 'Secret',
      fields: {
        1: metadata,
        2: { name: 'data', type: 'map', values: 'bytes' },
        3: { name: 'type', type: 'string' },
        4: { name: 'stringData', type: 'map', values: 'string' },
        5: { name: 'immutable', type: 'bool' },
      },
    },
  ],
]);

const UNKNOWN: Message = {
  name: 'Unknown',
  fields: {
    1: {
      name: 'typeMeta',
      type: 'message',
      message: {
        name: 'TypeMeta',
        fields: { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } },
      },
    },
    2: { name: 'raw', type: 'bytes' },
    3: { name: 'contentEncoding', type: 'string' },
    4: { name: 'contentType', type: 'string' },
  },
};

const MAGIC = Buffer.from('k8s\0', 'latin1');

/** Decodes a protobuf request body into the object it encodes, as its JSON would be. */
export function decodeProtobufObject(body: Buffer): KubeObject {
  if (!body.subarray(0, MAGIC.length).equals(MAGIC))
    throw malformed('it does not start with the k8s protobuf prefix');
  const envelope = decodeMessage(body.subarray(MAGIC.length), UNKNOWN, true);
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  if (typeof envelope.contentEncoding === 'string')
    throw unsupported(`an envelope with contentEncoding ${envelope.contentEncoding}`);
  const key = `${typeMeta.apiVersion ?? ''}/${typeMeta.kind ?? ''}`;
  const message = OBJECTS.get(key);
  if (message === undefined) throw unsupported(`a ${key === '/' ? 'body without a kind' : key}`);
  const raw = Buffer.from((envelope.raw as string | undefined) ?? '', 'base64');
  return {
    apiVersion: typeMeta.apiVersion,
    kind: typeMeta.kind,
    ...decodeMessage(raw, message, false),
  } as KubeObject;
}

/** A cursor over protobuf's wire format. */
class Reader {
  position = 0;
  constructor(readonly bytes: Buffer) {}

  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  varint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.done) throw malformed('a varint runs past the end');
      const byte = this.bytes[this.position++] ?? 0;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw malformed('a varint is longer than 10 bytes');
  }

  bytesOf(length: number): Buffer {
    if (length > this.bytes.length - this.position) throw malformed('a field runs past the end');
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }

  /** The bytes of a length-delimited field. */
  lengthDelimited(): Buffer {
    return this.bytesOf(Number(this.varint()));
  }
}

const WIRE_VARINT = 0;
const WIRE_LENGTH = 2;

/**
 * A message's fields as JSON values. Empty scalars are left out, as Kubernetes' JSON leaves out
 * empty fields (the protobuf encoding writes every non-pointer field, empty or not); map values
 * and list items stay as they are. `envelope` keeps `raw` as base64 text for the caller.
 */
function decodeMessage(
  bytes: Buffer,
  message: Message,
  envelope: boolean,
): Record<string, unknown> {
  const reader = new Reader(bytes);
  const object: Record<string, unknown> = {};
  while (!reader.done) {
    const tag = reader.varint();
    const number = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    const field = message.fields[number];
    if (field === undefined) throw unsupported(`${message.name} field ${number}`);
    const expected = field.type === 'int64' || field.type === 'bool' ? WIRE_VARINT : WIRE_LENGTH;
    if (wire !== expected)
      throw malformed(`${message.name}.${field.name} has wire type ${wire}, not ${expected}`);
    const value =
      field.type === 'int64' || field.type === 'bool' ? reader.varint() : reader.lengthDelimited();
    readField(object, field, value, envelope);
  }
  return object;
}

function readField(
  object: Record<string, unknown>,
  field: Field,
  value: bigint | Buffer,
  envelope: boolean,
): void {
  if (typeof value === 'bigint') readVarint(object, field, value);
  else readLengthDelimited(object, field, value, envelope);
}

function readVarint(object: Record<string, unknown>, field: Field, value: bigint): void {
  if (field.type === 'bool') {
    object[field.name] = value !== 0n;
    return;
  }
  const number = BigInt.asIntN(64, value);
  if (number !== 0n) object[field.name] = safeNumber(number, field.name);
}

function readLengthDelimited(
  object: Record<string, unknown>,
  field: Field,
  bytes: Buffer,
  envelope: boolean,
): void {
  const { name } = field;
  switch (field.type) {
    case 'string': {
      const text = utf8(bytes, name);
      if (text !== '') object[name] = text;
      return;
    }
    case 'bytes':
      if (envelope || bytes.length > 0) object[name] = bytes.toString('base64');
      return;
    case 'time': {
      const seconds = (decodeMessage(bytes, TIME, false).seconds as number | undefined) ?? 0;
      if (seconds !== 0)
        object[name] = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
      return;
    }
    case 'strings':
      object[name] = [...((object[name] as string[] | undefined) ?? []), utf8(bytes, name)];
      return;
    case 'map':
      object[name] = withEntry(object[name], bytes, field.values);
      return;
    case 'message': {
      const decoded = decodeMessage(bytes, field.message, false);
      object[name] = field.repeated ? [...((object[name] as unknown[]) ?? []), decoded] : decoded;
    }
  }
}

/** A map (without a prototype: keys are data) with one more entry. */
function withEntry(
  map: unknown,
  bytes: Buffer,
  values: 'string' | 'bytes',
): Record<string, unknown> {
  const entries = (map as Record<string, unknown> | undefined) ?? Object.create(null);
  const entry = decodeMessage(bytes, values === 'string' ? TEXT_ENTRY : BYTES_ENTRY, true);
  entries[(entry.key as string | undefined) ?? ''] = entry.value ?? '';
  return entries;
}

const TIME: Message = {
  name: 'Time',
  fields: { 1: { name: 'seconds', type: 'int64' }, 2: { name: 'nanos', type: 'int64' } },
};
/** A map entry: `key = 1`, `value = 2` (map values keep '' and empty bytes). */
const TEXT_ENTRY: Message = {
  name: 'map entry',
  fields: { 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: 'string' } },
};
const BYTES_ENTRY: Message = {
  name: 'map entry',
  fields: { 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: 'bytes' } },
};

function safeNumber(value: bigint, name: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
    throw malformed(`${name} is out of range`);
  return Number(value);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Buffer, name: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw malformed(`${name} is not UTF-8`);
  }
}

function malformed(what: string): ApiFailure {
  return ApiFailure.badRequest(`the protobuf body is malformed: ${what}`);
}

function unsupported(what: string): ApiFailure {
  return new ApiFailure(
    415,
    'UnsupportedMediaType',
    `this fake API server decodes protobuf for v1 Namespace, ConfigMap and Secret only, not ${what}: send it as application/json`,
  );
}
