// TensorProto -> host values: float types become float32, integer and boolean types plain
// numbers. Every size is checked against the bytes that are really there before anything is
// allocated, so a hostile file cannot ask for more memory than it holds.
import { formatShape } from '../../shape.js';

/** A constant at import: a float tensor, or integers (shapes, axes, indices). */
export type HostTensor =
  | { readonly kind: 'float'; readonly dims: readonly number[]; readonly values: Float32Array }
  | { readonly kind: 'int'; readonly dims: readonly number[]; readonly values: readonly number[] };

/** TensorProto.DataType numbers convkit reads, with their size in raw_data. */
const DATA_TYPES: Record<number, { name: string; bytes: number; kind: 'float' | 'int' }> = {
  1: { name: 'FLOAT', bytes: 4, kind: 'float' },
  2: { name: 'UINT8', bytes: 1, kind: 'int' },
  3: { name: 'INT8', bytes: 1, kind: 'int' },
  4: { name: 'UINT16', bytes: 2, kind: 'int' },
  5: { name: 'INT16', bytes: 2, kind: 'int' },
  6: { name: 'INT32', bytes: 4, kind: 'int' },
  7: { name: 'INT64', bytes: 8, kind: 'int' },
  9: { name: 'BOOL', bytes: 1, kind: 'int' },
  10: { name: 'FLOAT16', bytes: 2, kind: 'float' },
  11: { name: 'DOUBLE', bytes: 8, kind: 'float' },
  12: { name: 'UINT32', bytes: 4, kind: 'int' },
};

/** The name of an ONNX data type number, for messages. */
export function dataTypeName(type: number): string {
  const names: Record<number, string> = { 8: 'STRING', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16' };
  return DATA_TYPES[type]?.name ?? names[type] ?? `data type ${type}`;
}

/** Whether values of this type are integers (shapes, indices) rather than floats. */
export function isIntegerType(type: number): boolean {
  return DATA_TYPES[type]?.kind === 'int';
}

/** Most elements one constant may have: as for tensors (Float32Array lengths, int32 indices). */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** Checks dims (non-negative safe integers, product within limits); returns the element count. */
export function checkDims(what: string, dims: unknown): number {
  if (!Array.isArray(dims)) throw new TypeError(`${what}: dims must be a list of integers`);
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw new RangeError(`${what}: dims ${formatShape(dims)} must be non-negative integers`);
    n *= d;
    // Checked as it grows: a product that overflows float64 precision is already far past the limit.
    if (n > MAX_ELEMENTS) throw new RangeError(`${what}: dims ${formatShape(dims)} hold more than 2^31-1 elements`);
  }
  return n;
}

function float16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f, frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function readRaw(type: number, raw: Uint8Array, n: number): Float32Array | number[] {
  // float32 weights are most of a file: one copy (raw_data need not be 4-byte aligned). Not
  // raw.slice(): on a Node Buffer (what protobufjs decodes a Buffer into) that is a view.
  if (type === 1 && LITTLE_ENDIAN) return new Float32Array(new Uint8Array(raw).buffer, 0, n);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Float32Array | number[] = DATA_TYPES[type].kind === 'float' ? new Float32Array(n) : new Array<number>(n);
  for (let i = 0; i < n; i++) {
    switch (type) {
      case 1: out[i] = view.getFloat32(4 * i, true); break;
      case 10: out[i] = float16(view.getUint16(2 * i, true)); break;
      case 11: out[i] = view.getFloat64(8 * i, true); break;
      case 7: out[i] = Number(view.getBigInt64(8 * i, true)); break;
      case 6: out[i] = view.getInt32(4 * i, true); break;
      case 12: out[i] = view.getUint32(4 * i, true); break;
      case 5: out[i] = view.getInt16(2 * i, true); break;
      case 4: out[i] = view.getUint16(2 * i, true); break;
      case 3: out[i] = view.getInt8(i); break;
      default: out[i] = view.getUint8(i); break; // UINT8, BOOL
    }
  }
  return out;
}

/** The typed field that holds values of this type when raw_data is not used. */
function typedField(type: number): string {
  if (type === 1) return 'float_data';
  if (type === 11) return 'double_data';
  if (type === 7) return 'int64_data';
  if (type === 12) return 'uint64_data';
  return 'int32_data'; // INT32, INT16, INT8, UINT16, UINT8, BOOL and FLOAT16's bits
}

/**
 * A TensorProto (as decoded, snake_case fields) as a HostTensor; what names it in errors
 * ("initializer 'conv1.weight'").
 */
export function hostTensor(what: string, proto: Record<string, unknown>): HostTensor {
  const type = proto.data_type as number;
  if (proto.data_location === 'EXTERNAL' || (proto.external_data as unknown[] | undefined)?.length) {
    throw new TypeError(`${what}: its data is stored in an external file, which importOnnx does not read (save the model with its weights inside: onnx.save_model(m, path, save_as_external_data=False))`);
  }
  if ((proto.segment as unknown) != null) throw new TypeError(`${what}: segmented tensors are not supported`);
  const info = DATA_TYPES[type];
  if (!info) throw new TypeError(`${what}: data type ${dataTypeName(type)} is not supported (float32, float16, float64 and integer types are)`);
  const dims = (proto.dims as number[]) ?? [];
  const n = checkDims(what, dims);
  const raw = proto.raw_data as Uint8Array | undefined;
  let values: Float32Array | number[];
  if (raw && raw.length > 0) {
    if (raw.length !== n * info.bytes) {
      throw new RangeError(`${what}: raw_data holds ${raw.length} bytes but dims ${formatShape(dims)} of ${info.name} need ${n * info.bytes}`);
    }
    values = readRaw(type, raw, n);
  } else {
    const field = typedField(type);
    const list = (proto[field] as number[] | undefined) ?? [];
    if (list.length !== n) throw new RangeError(`${what}: ${field} holds ${list.length} values but dims ${formatShape(dims)} need ${n}`);
    if (info.kind === 'float') {
      values = type === 10 ? Float32Array.from(list, float16) : Float32Array.from(list);
    } else {
      values = list.map(Number);
    }
  }
  return info.kind === 'float'
    ? { kind: 'float', dims: [...dims], values: values as Float32Array }
    : { kind: 'int', dims: [...dims], values: values as number[] };
}
