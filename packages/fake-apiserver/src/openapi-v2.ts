/**
 * The OpenAPI v2 document in the protobuf encoding kubectl asks for
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, gnostic's `openapi.v2.Document`):
 * kubectl validates a `List` of manifests client-side against it, and parses it only as protobuf.
 * This server publishes no schemas in it (kubectl then leaves each item's validation to the
 * server, which validates custom resources against their CRD schema), so the document holds
 * `swagger` (field 1) and `info` (field 2: `title` 1, `version` 2), as gnostic defines them.
 */
import { lengthDelimited, textField } from './wire.js';

const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** Whether an `Accept` header asks for the protobuf document first. */
export function wantsProtobufOpenApi(accept: string | undefined): boolean {
  const first = (accept ?? '').split(',')[0]?.split(';')[0]?.trim();
  return first === OPENAPI_V2_PROTOBUF;
}

/** The protobuf encoding of `{ swagger, info: { title, version } }`. */
export function encodeOpenApiV2(document: {
  swagger: string;
  info: { title: string; version: string };
}): Buffer {
  const info = Buffer.concat([
    textField(1, document.info.title),
    textField(2, document.info.version),
  ]);
  return Buffer.concat([textField(1, document.swagger), lengthDelimited(2, info)]);
}
