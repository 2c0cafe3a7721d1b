// IntegerTensor: integer or boolean values read from (or written to) a file, kept exactly as
// they were. convkit computes only in float32, so these are never operands of an op; they exist
// so that a PyTorch state_dict's integer buffers (BatchNorm's int64 num_batches_tracked) can
// be read, loaded into a module (converted to float32 only when every value is exact) and
// written back unchanged.
import { checkedNumel, describe, formatShape, parseShape } from './shape.js';

/** safetensors names of the integer dtypes; BOOL is one byte per value, 0 or 1. */
export type IntegerDtype = 'I64' | 'U64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';

/** The typed array that holds an IntegerTensor's values: BigInt64Array for I64, Uint8Array for U8 and BOOL, ... */
export type IntegerArray = BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** The typed array that holds each dtype's values. */
export const INTEGER_ARRAYS = {
  I64: BigInt64Array, U64: BigUint64Array, I32: Int32Array, U32: Uint32Array,
  I16: Int16Array, U16: Uint16Array, I8: Int8Array, U8: Uint8Array, BOOL: Uint8Array,
} as const;

export function isIntegerDtype(dtype: string): dtype is IntegerDtype {
  return Object.hasOwn(INTEGER_ARRAYS, dtype);
}

/**
 * An integer or boolean tensor read from a safetensors file (a PyTorch state_dict's int64
 * num_batches_tracked, say), kept exactly: convkit computes in float32 only, so it is data to
 * load into a buffer (converted when exact) or to write back unchanged.
 */
export class IntegerTensor {
  readonly shape: readonly number[];
  readonly size: number;

  /** Wraps data (not copied) as a tensor of shape; data must be the dtype's typed array. */
  constructor(readonly dtype: IntegerDtype, readonly data: IntegerArray, shape: readonly number[]) {
    const op = 'IntegerTensor';
    if (typeof dtype !== 'string' || !isIntegerDtype(dtype)) {
      throw new RangeError(`${op}: dtype must be one of ${Object.keys(INTEGER_ARRAYS).join(', ')}, got ${describe(dtype)}`);
    }
    const expected = INTEGER_ARRAYS[dtype];
    if (!(data instanceof expected)) throw new TypeError(`${op}: ${dtype} data must be a ${expected.name}, got ${describe(data)}`);
    this.shape = parseShape(op, shape);
    this.size = checkedNumel(op, 'shape', this.shape);
    if (data.length !== this.size) {
      throw new RangeError(`${op}: data has ${data.length} elements but shape ${formatShape(this.shape)} needs ${this.size}`);
    }
    if (dtype === 'BOOL') {
      const bad = (data as Uint8Array).findIndex((v) => v > 1);
      if (bad >= 0) throw new RangeError(`${op}: BOOL data must be 0 or 1, got ${data[bad]} at index ${bad}`);
    }
  }

  /** True when the ArrayBuffer behind data was transferred away (postMessage, structuredClone). */
  get isDetached(): boolean {
    return this.data.length !== this.size;
  }

  /** A TypeError naming `what` if the data is gone: reading it would give no values, silently. */
  checkAttached(what: string): void {
    if (this.isDetached) {
      throw new TypeError(`${what}: the ${this.dtype} tensor ${formatShape(this.shape)} lost its data: its ArrayBuffer was detached (transferred with postMessage or structuredClone)`);
    }
  }

  /**
   * The values as float32, exactly: a RangeError naming `what` if any value has no exact float32
   * (every integer up to 2^24 in magnitude has one), so nothing is ever rounded silently.
   */
  toFloat32(what = 'IntegerTensor'): Float32Array {
    this.checkAttached(what);
    const { data } = this;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      const n = Number(v); // a bigint beyond 2^53 rounds here: the BigInt check below catches it
      out[i] = n;
      if (out[i] !== n || (typeof v === 'bigint' && BigInt(n) !== v)) {
        throw new RangeError(`${what}: the ${this.dtype} value ${v} at index ${i} has no exact float32 (convkit keeps tensors as float32, exact for integers up to 2^24)`);
      }
    }
    return out;
  }
}
