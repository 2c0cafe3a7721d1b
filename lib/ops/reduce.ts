// sum and mean over axes. The backward pass broadcasts the gradient back over the reduced
// dims (divided by the count for mean) with the broadcasting kernel; the forward sums
// accumulate in double (lib/backend/types.ts, sumAxes), so long reductions stay accurate.
import { BinaryOpCode } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, checkTensor, emptyResult } from '../check.js';
import { describe, formatShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { broadcastGeometry, reduceGeometry } from './broadcast.js';

/** Which dims of shape `axes` names: all for undefined; negative axes count from the end. */
function reducedDims(op: string, shape: readonly number[], axes: unknown): boolean[] {
  const rank = shape.length;
  if (axes === undefined) return new Array<boolean>(rank).fill(true);
  const list = typeof axes === 'number' ? [axes] : axes;
  if (!Array.isArray(list)) throw new TypeError(`${op}: axes must be a number, an array of numbers or undefined, got ${describe(axes)}`);
  const reduced = new Array<boolean>(rank).fill(false);
  const seen = new Set<number>();
  list.forEach((axis: unknown, i) => {
    const a = normalizeAxis(op, typeof axes === 'number' ? 'axes' : `axes[${i}]`, axis, shape);
    if (seen.has(a)) throw new RangeError(`${op}: axes ${JSON.stringify(list)} names dim ${a} twice (shape ${formatShape(shape)})`);
    seen.add(a);
    if (rank > 0) reduced[a] = true; // a 0-d tensor's axis 0 is its one element
  });
  return reduced;
}

function reduce(op: 'sum' | 'mean', xArg: unknown, axes: unknown, keepDimsArg: unknown): Tensor {
  const x = checkTensor(op, 'x', xArg);
  if (keepDimsArg !== undefined && typeof keepDimsArg !== 'boolean') throw new TypeError(`${op}: keepDims must be a boolean, got ${describe(keepDimsArg)}`);
  const keepDims = keepDimsArg ?? false;
  const reduced = reducedDims(op, x.shape, axes);
  const keptShape = x.shape.map((n, i) => (reduced[i] ? 1 : n)); // the output with keepDims
  const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !reduced[i]);
  const count = x.shape.reduce((p, n, i) => (reduced[i] ? p * n : p), 1);
  const backend = backendFor(op, { x });
  const out = emptyResult(op, outShape, backend);
  // The mean of nothing is 0 * Infinity: NaN, as in PyTorch.
  if (out.size > 0) backend.sumAxes(reduceGeometry(op, x.shape, reduced), x.storage, op === 'mean' ? 1 / count : 1, out.storage);
  if (!needsGrad(x)) return out;
  return record(out, op, [x], (dy) => {
    const dx = backend.empty(x.size);
    if (dx.length > 0) {
      // dy broadcast back to x's shape: times 1 for sum, divided by the count for mean.
      const scale = backend.fromHost(Float32Array.of(op === 'mean' ? count : 1));
      const code = op === 'mean' ? BinaryOpCode.div : BinaryOpCode.mul;
      backend.binary(code, broadcastGeometry(op, x.shape, keptShape, []), dy, scale, dx);
    }
    return [dx];
  });
}

/**
 * The sum of x over `axes` (a number or an array of numbers, negative counting from the end;
 * undefined sums every element; an empty array sums nothing, as numpy). The summed dims are
 * dropped, or kept as size 1 with keepDims. Accumulated in double.
 */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce('sum', x, axes, keepDims);
}

/**
 * The mean of x over `axes` (as {@link sum}). The mean over no elements is NaN, as in
 * PyTorch.
 */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce('mean', x, axes, keepDims);
}

