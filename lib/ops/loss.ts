// crossEntropy: softmax + negative log-likelihood fused in the kernel, mean over the batch.
import { currentBackend } from '../backend/registry.js';
import { needsGrad, record } from '../autograd.js';
import { allocResult, checkTensorRank } from '../check.js';
import { describe, formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Class indices as int32, each checked to be an integer in [0, classes). */
function parseLabels(op: string, labels: unknown, n: number, classes: number, logitsShape: readonly number[]): Int32Array {
  const values = labels instanceof Tensor ? labels.data : labels;
  if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError(`${op}: labels must be an array-like of class indices, got ${describe(labels)}`);
  }
  const list = values as ArrayLike<unknown>;
  if (list.length !== n) {
    throw new RangeError(`${op}: labels has ${list.length} entries but logits has ${n} rows (logits ${formatShape(logitsShape)})`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = list[i];
    if (typeof v !== 'number') throw new TypeError(`${op}: labels[${i}] must be a number, got ${describe(v)}`);
    if (!Number.isInteger(v)) throw new RangeError(`${op}: labels[${i}] must be an integer class index, got ${v}`);
    if (v < 0 || v >= classes) {
      throw new RangeError(`${op}: labels[${i}] is ${v}, out of range for ${classes} classes (logits ${formatShape(logitsShape)})`);
    }
    out[i] = v;
  }
  return out;
}

/** Mean cross-entropy of logits [N, C] against integer labels; a 0-d tensor. */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number> | Tensor): Tensor {
  const op = 'crossEntropy';
  const x = checkTensorRank(op, 'logits', logits, 2, '[batch, classes]');
  const [n, c] = x.shape;
  if (n === 0 || c === 0) throw new RangeError(`${op}: logits must have at least one row and one class, got shape ${formatShape(x.shape)}`);
  const target = parseLabels(op, labels, n, c, x.shape);
  const backend = currentBackend();
  const probs = allocResult(op, x.shape).data;
  const out = allocResult(op, []);
  out.data[0] = backend.crossEntropy(x.data, target, n, c, probs);
  return record(out, needsGrad(x), op, [x], (dy) => {
    const dx = new Float32Array(x.size);
    backend.crossEntropyBackward(probs, target, n, c, dy[0] / n, dx);
    return [dx];
  });
}
