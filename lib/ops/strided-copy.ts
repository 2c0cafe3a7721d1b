// Every layout op (permute, slice, concat, split and their backward passes) is a few strided
// copies; this builds the plan the kernels take (StridedCopy in lib/backend/types.ts), with the
// dims reduced to the fewest a kernel has to walk, so that a kernel's fast paths (one memcpy
// per contiguous run, a blocked 2-D transpose) see the same shape whatever the op was.
import type { AnyBackend, Storage, StridedCopy } from '../backend/types.js';
import { MAX_MERGED_DIMS, tooManyDims } from './broadcast.js';

/** Row-major strides of shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k];
  }
  return strides;
}

/** A region of a buffer: its offset and the stride of each of the copy's dims. */
export interface Region {
  offset: number;
  strides: readonly number[];
}

/**
 * The plan for copying src's region into dst's, over shape: size-1 dims dropped, dst strides
 * made positive (flipping the dim in both regions), dims ordered by falling dst stride, and
 * neighbours that are contiguous in both regions merged into one. More than MAX_MERGED_DIMS
 * dims left is a RangeError naming op (the CUDA kernel takes a plan by value), on every backend.
 */
export function stridedCopyPlan(op: string, shape: readonly number[], src: Region, dst: Region): StridedCopy {
  let srcOffset = src.offset;
  let dstOffset = dst.offset;
  let dims: Array<{ n: number; s: number; d: number }> = [];
  for (let k = 0; k < shape.length; k++) {
    const n = shape[k];
    if (n === 0) return pack([0], srcOffset, [1], dstOffset, [1]);
    if (n === 1) continue;
    let s = src.strides[k];
    let d = dst.strides[k];
    if (d < 0) { // walk this dim backwards in both regions: same pairs, positive dst stride
      srcOffset += (n - 1) * s;
      dstOffset += (n - 1) * d;
      s = -s;
      d = -d;
    }
    dims.push({ n, s, d });
  }
  if (dims.length === 0) return pack([1], srcOffset, [1], dstOffset, [1]);
  // Stable, so dims with equal dst strides keep their order.
  dims = dims.map((dim, i) => ({ dim, i }))
    .sort((a, b) => b.dim.d - a.dim.d || Math.abs(b.dim.s) - Math.abs(a.dim.s) || a.i - b.i)
    .map(({ dim }) => dim);
  const merged = [dims[dims.length - 1]];
  for (let k = dims.length - 2; k >= 0; k--) {
    const outer = dims[k];
    const inner = merged[0];
    if (outer.s === inner.n * inner.s && outer.d === inner.n * inner.d) {
      merged[0] = { n: outer.n * inner.n, s: inner.s, d: inner.d };
    } else {
      merged.unshift(outer);
    }
  }
  if (merged.length > MAX_MERGED_DIMS) tooManyDims(op, 'the copy');
  return pack(merged.map((m) => m.n), srcOffset, merged.map((m) => m.s), dstOffset, merged.map((m) => m.d));
}

function pack(shape: number[], srcOffset: number, srcStrides: number[], dstOffset: number, dstStrides: number[]): StridedCopy {
  const rank = shape.length;
  const packed = new Int32Array(3 + 3 * rank);
  packed[0] = rank;
  packed[1] = srcOffset;
  packed[2] = dstOffset;
  packed.set(shape, 3);
  packed.set(srcStrides, 3 + rank);
  packed.set(dstStrides, 3 + 2 * rank);
  return { shape, srcOffset, srcStrides, dstOffset, dstStrides, packed };
}

/** Copies src's region into dst's over shape; nothing for an empty shape. */
export function copyRegion(op: string, backend: AnyBackend, shape: readonly number[], src: Storage, srcRegion: Region, dst: Storage, dstRegion: Region): void {
  if (shape.includes(0)) return;
  backend.stridedCopy(stridedCopyPlan(op, shape, srcRegion, dstRegion), src, dst);
}
