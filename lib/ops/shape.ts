// reshape and flatten: new shapes over the same storage (no copy); the gradient passes
// through unchanged.
import { record, needsGrad } from '../autograd.js';
import { checkInt, checkTensor } from '../check.js';
import { describe, formatShape, normalizeAxis } from '../shape.js';
import { shareStorage, Tensor } from '../tensor.js';

function view(op: string, x: Tensor, shape: readonly number[]): Tensor {
  x.checkLive(op);
  const out = new Tensor(shareStorage(x.storage), shape);
  return needsGrad(x) ? record(out, op, [x], (dy) => [dy]) : out;
}

/** The same data in a new shape; one entry may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const op = 'reshape';
  const t = checkTensor(op, 'x', x);
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of integers, got ${describe(shape)}`);
  let inferred = -1;
  let known = 1;
  shape.forEach((d: unknown, i) => {
    if (d === -1) {
      if (inferred >= 0) throw new RangeError(`${op}: shape ${formatShape(shape)} has more than one -1`);
      inferred = i;
    } else {
      known *= checkInt(op, `shape[${i}]`, d, 0);
    }
  });
  const dims = shape.slice();
  if (inferred >= 0) {
    if (known === 0 || t.size % known !== 0) {
      throw new RangeError(`${op}: cannot reshape ${formatShape(t.shape)} (${t.size} elements) into ${formatShape(shape)}`);
    }
    dims[inferred] = t.size / known;
  } else if (known !== t.size) {
    throw new RangeError(`${op}: cannot reshape ${formatShape(t.shape)} (${t.size} elements) into ${formatShape(shape)} (${known} elements)`);
  }
  return view(op, t, dims);
}

/** Joins dims startDim..end into one: [N, C, H, W] -> [N, C*H*W] by default. */
export function flatten(x: Tensor, startDim = 1): Tensor {
  const op = 'flatten';
  const t = checkTensor(op, 'x', x);
  if (t.ndim === 0) return view(op, t, [1]);
  const start = normalizeAxis(op, 'startDim', startDim, t.shape);
  let rest = 1;
  for (let i = start; i < t.ndim; i++) rest *= t.shape[i];
  return view(op, t, [...t.shape.slice(0, start), rest]);
}
