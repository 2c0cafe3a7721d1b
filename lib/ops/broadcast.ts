// Numpy broadcasting for the elementwise ops and their gradients, as geometries the kernels
// take (lib/backend/types.ts): each operand's element strides (0 along a broadcast dim), then
// size-1 dims dropped and neighbours merged wherever both operands stay contiguous across
// them, so that the kernels see few dims: [N,C,H,W] + [C,1,1] is [N, C, H*W] with strides
// [C*H*W, H*W, 1] and [0, 1, 0], and a same-shape or scalar operand is one dim.
import type { BroadcastGeometry, ReduceGeometry } from '../backend/types.js';
import { formatShape } from '../shape.js';

/** The most dims a geometry may keep after merging (the CUDA kernels take them by value). */
export const MAX_MERGED_DIMS = 16;

/** Row-major strides of `shape` right-aligned into `rank` dims, 0 wherever it has size 1 (or no dim). */
function broadcastStrides(shape: readonly number[], rank: number): number[] {
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[rank - shape.length + i] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/** The RangeError for a problem the kernels cannot take: more than MAX_MERGED_DIMS dims once merged. */
export function tooManyDims(op: string, what: string): never {
  throw new RangeError(`${op}: ${what} needs more than ${MAX_MERGED_DIMS} dims even after merging neighbours`);
}

/**
 * The geometry of `a op b` written to an output of outShape; a's and b's shapes must broadcast
 * to it (right-aligned, each dim equal or 1).
 */
export function broadcastGeometry(op: string, outShape: readonly number[], aShape: readonly number[], bShape: readonly number[]): BroadcastGeometry {
  const rank = outShape.length;
  const as = broadcastStrides(aShape, rank);
  const bs = broadcastStrides(bShape, rank);
  const shape: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let i = 0; i < rank; i++) {
    const n = outShape[i];
    if (n === 1) continue;
    const last = shape.length - 1;
    // Merge into the previous dim when stepping over this one continues both operands' walks.
    if (last >= 0 && aStrides[last] === as[i] * n && bStrides[last] === bs[i] * n) {
      shape[last] *= n;
      aStrides[last] = as[i];
      bStrides[last] = bs[i];
    } else {
      shape.push(n);
      aStrides.push(as[i]);
      bStrides.push(bs[i]);
    }
  }
  if (shape.length === 0) shape.push(1), aStrides.push(1), bStrides.push(1); // one element each
  if (shape.length > MAX_MERGED_DIMS) tooManyDims(op, `broadcasting ${formatShape(aShape)} with ${formatShape(bShape)}`);
  const packed = Int32Array.from([shape.length, ...shape, ...aStrides, ...bStrides]);
  return { shape, aStrides, bStrides, packed };
}

/** The geometry of summing x (of shape) over the dims flagged in `reduced`. */
export function reduceGeometry(op: string, xShape: readonly number[], reduced: readonly boolean[]): ReduceGeometry {
  const shape: number[] = [];
  const flags: boolean[] = [];
  for (let i = 0; i < xShape.length; i++) {
    const n = xShape[i];
    if (n === 1) continue; // summing over one element, or keeping it, is the same
    const last = shape.length - 1;
    if (last >= 0 && flags[last] === reduced[i]) shape[last] *= n;
    else shape.push(n), flags.push(reduced[i]);
  }
  if (shape.length === 0) shape.push(1), flags.push(false);
  if (shape.length > MAX_MERGED_DIMS) tooManyDims(op, `summing ${formatShape(xShape)}`);
  const packed = Int32Array.from([shape.length, ...shape, ...flags.map(Number)]);
  return { shape, reduced: flags, packed };
}

/**
 * The sum that takes a gradient of outShape back to an operand of `shape` that was broadcast
 * to it: over the dims the operand lacks or has as 1 where the output does not.
 */
export function unbroadcastGeometry(op: string, outShape: readonly number[], shape: readonly number[]): ReduceGeometry {
  const offset = outShape.length - shape.length;
  const reduced = outShape.map((n, i) => i < offset || (shape[i - offset] === 1 && n !== 1));
  return reduceGeometry(op, outShape, reduced);
}
