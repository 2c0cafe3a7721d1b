// The safetensors dtypes convkit reads, and how their little-endian bytes become values: float
// dtypes become float32 exactly as PyTorch's .float() makes them, integer and boolean dtypes
// stay as they are (IntegerTensor), so a state_dict's int64 buffers survive a round trip.
import { INTEGER_ARRAYS, type IntegerArray, type IntegerDtype } from '../integer-tensor.js';

export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';
export type Dtype = FloatDtype | IntegerDtype;

const ITEM_BYTES: Readonly<Record<Dtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Every dtype convkit reads, for error messages. */
export const DTYPES = Object.keys(ITEM_BYTES) as Dtype[];

export function isDtype(dtype: string): dtype is Dtype {
  return Object.hasOwn(ITEM_BYTES, dtype);
}

export function isFloatDtype(dtype: Dtype): dtype is FloatDtype {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

export function itemBytes(dtype: Dtype): number {
  return ITEM_BYTES[dtype];
}

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Reverses each item's bytes in place: little-endian <-> big-endian. */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let at = 0; at < bytes.length; at += size) {
    for (let lo = at, hi = at + size - 1; lo < hi; lo++, hi--) [bytes[lo], bytes[hi]] = [bytes[hi], bytes[lo]];
  }
}

/**
 * A copy of little-endian bytes in host order, in a buffer of its own: aligned for any typed
 * array whatever the offset in the file, and detached from the file's buffer.
 */
function hostOrderCopy(bytes: Uint8Array, size: number): ArrayBuffer {
  const copy = new Uint8Array(bytes.length); // not bytes.slice(): on a Node Buffer that is a view
  copy.set(bytes);
  if (!hostIsLittleEndian) swapBytes(copy, size);
  return copy.buffer;
}

/** IEEE half to float32 bit by bit: every half, subnormals included, is exact in float32. */
function halfToFloat(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < half.length; i++) {
    const h = half[i];
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0x1f) bits[i] = sign | 0x7f800000 | (mantissa << 13); // inf, or NaN with its payload
    else if (exponent !== 0) bits[i] = sign | ((exponent + 112) << 23) | (mantissa << 13); // rebias 15 -> 127
    else out[i] = (sign ? -mantissa : mantissa) * 2 ** -24; // subnormal or (signed) zero, exact
  }
  return out;
}

/** bfloat16 is the top half of a float32. */
function bfloat16ToFloat(bf16: Uint16Array): Float32Array {
  const out = new Float32Array(bf16.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bf16.length; i++) bits[i] = bf16[i] << 16;
  return out;
}

/** A float dtype's little-endian bytes as float32 values. */
export function decodeFloat(dtype: FloatDtype, bytes: Uint8Array): Float32Array {
  const buffer = hostOrderCopy(bytes, ITEM_BYTES[dtype]);
  switch (dtype) {
    case 'F32': return new Float32Array(buffer);
    // Float32Array conversion rounds to nearest, ties to even, as C's (float) cast in PyTorch.
    case 'F64': return new Float32Array(new Float64Array(buffer));
    case 'F16': return halfToFloat(new Uint16Array(buffer));
    case 'BF16': return bfloat16ToFloat(new Uint16Array(buffer));
  }
}

/** An integer dtype's little-endian bytes as its typed array. */
export function decodeInteger(dtype: IntegerDtype, bytes: Uint8Array): IntegerArray {
  return new INTEGER_ARRAYS[dtype](hostOrderCopy(bytes, ITEM_BYTES[dtype]));
}

/** The little-endian bytes of values: a view of them on a little-endian host, else a copy. */
export function encodeLittleEndian(values: Float32Array | IntegerArray): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (hostIsLittleEndian) return bytes;
  const copy = new Uint8Array(bytes);
  swapBytes(copy, values.BYTES_PER_ELEMENT);
  return copy;
}
