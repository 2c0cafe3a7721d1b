// Reads and decodes an ONNX file through protobufjs and the official onnx.proto (schema.ts).
// protobufjs checks every length field against the bytes that are there before it reads, so a
// truncated or hostile file is an error here, never a huge allocation; any such error becomes a
// RangeError that says the file is not a valid ONNX model.
import { readFile } from 'node:fs/promises';
import { describe } from '../../shape.js';
import { decodeModelProto, type ModelObject } from '../schema.js';

/** The bytes of pathOrBytes: a file path, or the file's contents. */
export async function readModelBytes(op: string, pathOrBytes: unknown): Promise<Uint8Array> {
  if (pathOrBytes instanceof Uint8Array) return pathOrBytes;
  if (pathOrBytes instanceof ArrayBuffer) return new Uint8Array(pathOrBytes);
  if (typeof pathOrBytes !== 'string' || pathOrBytes === '') {
    throw new TypeError(`${op}: pathOrBytes must be a file path or the file's bytes (Uint8Array), got ${describe(pathOrBytes)}`);
  }
  return new Uint8Array(await readFile(pathOrBytes));
}

export function decodeModel(op: string, bytes: Uint8Array): ModelObject {
  if (bytes.length === 0) throw new RangeError(`${op}: the file is empty`);
  try {
    return decodeModelProto(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new RangeError(`${op}: the bytes are not a valid ONNX model (protobuf decoding failed: ${reason})`);
  }
}
