// The ONNX protobuf schema: the official onnx.proto (vendored from ONNX v1.22.0, Apache-2.0, see
// LICENSE-onnx.txt beside it), parsed once with protobufjs. exportOnnx writes through it, and an
// ONNX importer reads through it, so both use exactly the official messages, with the .proto's
// own snake_case field names (raw_data, ir_version), never a hand-written encoder.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

// lib/onnx/schema.ts and its build dist/onnx/schema.js sit at the same depth, and the package
// ships lib/, so one relative URL finds the .proto from either.
const PROTO_URL = new URL('../../lib/onnx/onnx.proto', import.meta.url);

export interface OnnxSchema {
  ModelProto: protobuf.Type;
  /** TensorProto.DataType: name -> number (FLOAT 1, INT64 7, ...). */
  dataType: Readonly<Record<string, number>>;
  /** AttributeProto.AttributeType: name -> number (FLOAT 1, INT 2, INTS 7, ...). */
  attributeType: Readonly<Record<string, number>>;
}

let cached: OnnxSchema | null = null;

/** The parsed schema (parsed on first use: most programs never touch ONNX). */
export function onnxSchema(): OnnxSchema {
  if (!cached) {
    const { root } = protobuf.parse(readFileSync(PROTO_URL, 'utf8'), { keepCase: true });
    cached = {
      ModelProto: root.lookupType('onnx.ModelProto'),
      dataType: root.lookupEnum('onnx.TensorProto.DataType').values,
      attributeType: root.lookupEnum('onnx.AttributeProto.AttributeType').values,
    };
  }
  return cached;
}

/** A ModelProto as a plain object (snake_case fields, as in onnx.proto). */
export type ModelObject = Record<string, unknown>;

/** The bytes of an ONNX file for model; a field that does not fit the schema is an Error. */
export function encodeModelProto(model: ModelObject): Uint8Array {
  const { ModelProto } = onnxSchema();
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`ONNX: the model does not fit onnx.proto (${problem})`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/**
 * The ModelProto in bytes as a plain object: int64 fields as numbers, enums as their names
 * ('FLOAT', 'INTS'), bytes as Uint8Array, repeated fields always present.
 */
export function decodeModelProto(bytes: Uint8Array): ModelObject {
  const { ModelProto } = onnxSchema();
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, enums: String, arrays: true });
}
