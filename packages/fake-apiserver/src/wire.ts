/**
 * Writing protobuf's wire format: a length-delimited field (strings, bytes, messages) and its
 * varints, all the encoder of `/openapi/v2` needs (and tests, to write protobuf bodies).
 */

/** A length-delimited field: its tag (field number, wire type 2), length and bytes. */
export function lengthDelimited(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

/** A string field. */
export const textField = (field: number, value: string): Buffer =>
  lengthDelimited(field, Buffer.from(value, 'utf8'));

/** A non-negative integer below 2^32 as a varint. */
export function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
