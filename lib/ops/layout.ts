// Layout ops: permute / transpose, slice, concat and split. Each is a strided copy
// (strided-copy.ts) on every backend, and so is each backward pass: the inverse permutation,
// a scatter of the slice into zeros, a slice of the gradient per piece, a concat of the pieces'
// gradients.
import type { AnyBackend, Storage } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, checkInt, checkTensor, emptyResult } from '../check.js';
import { describe, formatShape, normalizeAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { contiguousStrides, copyRegion, type Region } from './strided-copy.js';

const contiguous = (shape: readonly number[]): Region => ({ offset: 0, strides: contiguousStrides(shape) });

/** dims checked as a permutation of x's axes (negative ones counted from the end), resolved. */
function checkPermutation(op: string, dims: unknown, shape: readonly number[]): number[] {
  if (!Array.isArray(dims)) throw new TypeError(`${op}: dims must be an array of axes, got ${describe(dims)}`);
  const ndim = shape.length;
  if (dims.length !== ndim) {
    throw new RangeError(`${op}: dims ${formatShape(dims)} must name each of the ${ndim} axes of x ${formatShape(shape)} once`);
  }
  const resolved = dims.map((d: unknown, i) => normalizeAxis(op, `dims[${i}]`, d, shape));
  const seen = new Set(resolved);
  if (seen.size !== ndim) {
    throw new RangeError(`${op}: dims ${formatShape(dims)} is not a permutation of the ${ndim} axes of x ${formatShape(shape)}: an axis repeats`);
  }
  return resolved;
}

function permuteChecked(op: string, x: Tensor, perm: readonly number[]): Tensor {
  const backend = backendFor(op, { x });
  const xStrides = contiguousStrides(x.shape);
  const outShape = perm.map((p) => x.shape[p]);
  // The output's index k walks x's axis perm[k].
  const inX: Region = { offset: 0, strides: perm.map((p) => xStrides[p]) };
  const out = emptyResult(op, outShape, backend);
  copyRegion(op, backend, outShape, x.storage, inX, out.storage, contiguous(outShape));
  return needsGrad(x) ? record(out, op, [x], (dy) => {
    const dx = backend.empty(x.size); // a permutation writes every element
    copyRegion(op, backend, outShape, dy, contiguous(outShape), dx, inX);
    return [dx];
  }) : out;
}

/**
 * The axes of x reordered: axis k of the result is axis `dims[k]` of x (negative axes count
 * from the end), as torch.permute and ONNX Transpose. The result is a contiguous copy.
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const op = 'permute';
  const t = checkTensor(op, 'x', x);
  return permuteChecked(op, t, checkPermutation(op, dims, t.shape));
}

/** x with axes dim0 and dim1 swapped (negative axes count from the end), as torch.transpose. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const op = 'transpose';
  const t = checkTensor(op, 'x', x);
  const a = normalizeAxis(op, 'dim0', dim0, t.shape);
  const b = normalizeAxis(op, 'dim1', dim1, t.shape);
  const perm = t.shape.map((_, k) => (k === a ? b : k === b ? a : k));
  return permuteChecked(op, t, perm);
}

/** Where a slice starts and how many elements it takes, Python's slice.indices() for a dim of n. */
function sliceRange(n: number, start: number, end: number, step: number): { first: number; count: number } {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const resolve = (v: number, lo: number, hi: number) => clamp(v < 0 ? v + n : v, lo, hi);
  if (step > 0) {
    const first = resolve(start, 0, n);
    const last = resolve(end, 0, n);
    return { first, count: Math.max(0, Math.ceil((last - first) / step)) };
  }
  const first = resolve(start, -1, n - 1);
  const last = resolve(end, -1, n - 1);
  return { first, count: Math.max(0, Math.ceil((first - last) / -step)) };
}

/** A slice bound: an integer (any size: ONNX's INT64 max and min mean "to the end") or +-Infinity. */
function checkBound(op: string, name: string, value: unknown): number {
  const v = typeof value === 'bigint' ? Number(value) : value;
  if (typeof v !== 'number') throw new TypeError(`${op}: ${name} must be an integer, got ${describe(value)}`);
  if (!Number.isInteger(v) && Math.abs(v) !== Infinity) throw new RangeError(`${op}: ${name} must be an integer, got ${v}`);
  return v;
}

/**
 * Elements start, start + step, ... before end along one axis, as Python's `x[start:end:step]`
 * and ONNX Slice: negative start and end count from the end, bounds beyond the axis are clamped
 * (so ONNX's INT64 max and min work as "to the end"), and a negative step walks backwards.
 * step must not be 0. Bounds may be bigints (ONNX int64 values).
 */
export function slice(x: Tensor, axis: number, start: number | bigint, end: number | bigint, step: number | bigint = 1): Tensor {
  const op = 'slice';
  const t = checkTensor(op, 'x', x);
  const a = normalizeAxis(op, 'axis', axis, t.shape);
  if (t.ndim === 0) throw new RangeError(`${op}: x is a 0-d tensor; there is no axis to slice`);
  const from = checkBound(op, 'start', start);
  const to = checkBound(op, 'end', end);
  const by = checkBound(op, 'step', step);
  if (by === 0 || !Number.isFinite(by)) throw new RangeError(`${op}: step must be a non-zero integer, got ${by}`);
  const { first, count } = sliceRange(t.shape[a], from, to, by);
  const backend = backendFor(op, { x: t });
  const xStrides = contiguousStrides(t.shape);
  const outShape = t.shape.slice();
  outShape[a] = count;
  const inX: Region = { offset: first * xStrides[a], strides: xStrides.map((s, k) => (k === a ? s * by : s)) };
  const out = emptyResult(op, outShape, backend);
  copyRegion(op, backend, outShape, t.storage, inX, out.storage, contiguous(outShape));
  return needsGrad(t) ? record(out, op, [t], (dy) => {
    const whole = count === t.shape[a] && Math.abs(by) === 1;
    const dx = whole ? backend.empty(t.size) : backend.alloc(t.size); // zeros where the slice did not reach
    copyRegion(op, backend, outShape, dy, contiguous(outShape), dx, inX);
    return [dx];
  }) : out;
}

/**
 * The tensors joined along `axis` (default 0), as torch.cat and ONNX Concat: every other dim must
 * be equal, all on one device; pieces with no elements along axis are allowed.
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const op = 'concat';
  if (!Array.isArray(tensors)) throw new TypeError(`${op}: tensors must be an array of Tensors, got ${describe(tensors)}`);
  if (tensors.length === 0) throw new RangeError(`${op}: tensors must hold at least one tensor`);
  const pieces = tensors.map((t: unknown, i) => checkTensor(op, `tensors[${i}]`, t));
  const first = pieces[0];
  if (first.ndim === 0) throw new RangeError(`${op}: tensors[0] is a 0-d tensor; 0-d tensors cannot be joined (reshape them to [1])`);
  const a = normalizeAxis(op, 'axis', axis, first.shape);
  let total = 0;
  pieces.forEach((p, i) => {
    if (p.ndim !== first.ndim || p.shape.some((d, k) => k !== a && d !== first.shape[k])) {
      throw new RangeError(`${op}: tensors[${i}] has shape ${formatShape(p.shape)} but tensors[0] has ${formatShape(first.shape)}; they must match except along axis ${a}`);
    }
    total += p.shape[a];
  });
  const backend = backendFor(op, Object.fromEntries(pieces.map((p, i) => [`tensors[${i}]`, p])));
  const outShape = first.shape.slice();
  outShape[a] = total;
  const outStrides = contiguousStrides(outShape);
  const regions: Region[] = [];
  let along = 0;
  for (const p of pieces) {
    regions.push({ offset: along * outStrides[a], strides: outStrides });
    along += p.shape[a];
  }
  const out = emptyResult(op, outShape, backend);
  pieces.forEach((p, i) => copyRegion(op, backend, p.shape, p.storage, contiguous(p.shape), out.storage, regions[i]));
  return needsGrad(...pieces) ? record(out, op, pieces, (dy) => pieces.map((p, i) => {
    if (!p.requiresGrad) return null;
    const dp = backend.empty(p.size);
    copyRegion(op, backend, p.shape, dy, regions[i], dp, contiguous(p.shape));
    return dp;
  })) : out;
}

/** The pieces' sizes along the axis: chunks of `size` (the last one smaller), or the given sizes. */
function splitSizes(op: string, sizes: unknown, n: number, axis: number): number[] {
  if (typeof sizes === 'number') {
    const chunk = checkInt(op, 'sizes', sizes, 1);
    const out: number[] = [];
    for (let at = 0; at < n; at += chunk) out.push(Math.min(chunk, n - at));
    return out.length ? out : [0]; // an empty axis gives one empty piece, as torch.split
  }
  if (!Array.isArray(sizes)) throw new TypeError(`${op}: sizes must be a positive integer or an array of sizes, got ${describe(sizes)}`);
  if (sizes.length === 0) throw new RangeError(`${op}: sizes must hold at least one size`);
  const out = sizes.map((s: unknown, i) => checkInt(op, `sizes[${i}]`, s, 0));
  const sum = out.reduce((p, s) => p + s, 0);
  if (sum !== n) throw new RangeError(`${op}: sizes ${formatShape(out)} sum to ${sum} but axis ${axis} has ${n} elements`);
  return out;
}

/**
 * x cut into pieces along `axis` (default 0): `sizes` is either a chunk size (every piece that
 * long but the last, as torch.split) or the size of each piece, summing to the axis (as ONNX
 * Split). Gradients of the pieces are joined back into one for x, zeros for a piece that got none.
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const op = 'split';
  const t = checkTensor(op, 'x', x);
  if (t.ndim === 0) throw new RangeError(`${op}: x is a 0-d tensor; there is no axis to split`);
  const a = normalizeAxis(op, 'axis', axis, t.shape);
  const lengths = splitSizes(op, sizes, t.shape[a], a);
  const backend = backendFor(op, { x: t });
  const xStrides = contiguousStrides(t.shape);
  const shapes = lengths.map((n) => t.shape.map((d, k) => (k === a ? n : d)));
  const regions: Region[] = [];
  let along = 0;
  for (const n of lengths) {
    regions.push({ offset: along * xStrides[a], strides: xStrides });
    along += n;
  }
  const outs = shapes.map((shape, i) => {
    const out = emptyResult(op, shape, backend);
    copyRegion(op, backend, shape, t.storage, regions[i], out.storage, contiguous(shape));
    return out;
  });
  if (!needsGrad(t)) return outs;
  return recordSplit(backend, t, outs, regions);
}

/**
 * The tape of a split: each piece's node writes its gradient into its region of one buffer for
 * x, zero-filled, so that the pieces' gradients cost one buffer and one copy each instead of a
 * buffer of x's size per piece summed by the walk. The buffer reaches x through a hidden node
 * that every piece has as its parent: the walk runs all the pieces before it.
 */
function recordSplit(backend: AnyBackend, x: Tensor, outs: Tensor[], regions: Region[]): Tensor[] {
  const op = 'split';
  const state: { grad: Storage | null; done: boolean } = { grad: null, done: false };
  const joint = record(new Tensor(backend.empty(0), [0]), op, [x], (g) => {
    state.done = true;
    state.grad = null;
    return [g];
  });
  return outs.map((out, i) => record(out, op, [joint], (dy) => {
    if (state.done) throw new Error(`backward: the graph through ${op} was already released by an earlier backward() call; run the forward pass again`);
    const fresh = state.grad === null;
    state.grad ??= backend.alloc(x.size);
    copyRegion(op, backend, out.shape, dy, contiguous(out.shape), state.grad, regions[i]);
    return [fresh ? state.grad : null];
  }));
}
