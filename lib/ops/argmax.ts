// argmax: the index of the largest value along an axis, or over the flattened tensor. Indices
// are integers, so the result is an IntegerTensor on the host and has no gradient (as PyTorch).
import { backendFor, checkBoolean, checkTensor } from '../check.js';
import { IntegerTensor } from '../integer-tensor.js';
import { formatShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * The index of the largest value of x along `axis` (negative counts from the end), or of the
 * flattened x when axis is undefined, as torch.argmax: the first index on ties, and a NaN counts
 * as larger than any number. With keepDims the reduced axis stays as size 1 (every axis, for
 * the flattened form). Returns an I32 IntegerTensor on the host, whatever x's device.
 */
export function argmax(x: Tensor, axis?: number, keepDims = false): IntegerTensor & { readonly dtype: 'I32'; readonly data: Int32Array } {
  const op = 'argmax';
  const t = checkTensor(op, 'x', x);
  const keep = checkBoolean(op, 'keepDims', keepDims, false);
  let outer = 1;
  let dim = t.size;
  let inner = 1;
  let shape: number[];
  if (axis === undefined) {
    shape = keep ? t.shape.map(() => 1) : [];
  } else {
    const a = normalizeAxis(op, 'axis', axis, t.shape);
    dim = t.ndim === 0 ? 1 : t.shape[a];
    for (let k = 0; k < a; k++) outer *= t.shape[k];
    for (let k = a + 1; k < t.ndim; k++) inner *= t.shape[k];
    shape = t.shape.slice();
    if (keep) shape[a] = 1;
    else shape.splice(a, 1);
  }
  if (dim === 0) {
    throw new RangeError(`${op}: x ${formatShape(t.shape)} has no elements ${axis === undefined ? '' : `along axis ${axis} `}to take the largest of`);
  }
  const backend = backendFor(op, { x: t });
  const count = outer * inner;
  if (count === 0) return indices(new Int32Array(0), shape);
  const out = backend.allocInt32(count);
  backend.argmax(t.storage, outer, dim, inner, out);
  const host = backend.int32ToHost(out);
  if (t.device !== 'cpu') backend.release(out, false);
  return indices(host, shape);
}

function indices(data: Int32Array, shape: readonly number[]) {
  return new IntegerTensor('I32', data, shape) as IntegerTensor & { readonly dtype: 'I32'; readonly data: Int32Array };
}
