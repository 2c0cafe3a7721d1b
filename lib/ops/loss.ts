// Losses, PyTorch semantics: crossEntropy (class labels fused with the softmax in one kernel, or
// class probabilities, with optional label smoothing), nllLoss, mseLoss and bceWithLogits. Each
// takes { reduction: 'mean' (default) | 'sum' | 'none' }; kernels return sums accumulated in
// double and the mean divides here, so both backends reduce the same way.
import type { AnyBackend, IntStorage, Storage } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { allocResult, backendFor, checkFiniteNumber, checkOptionalTensor, checkOptions, checkTensor, checkTensorRank } from '../check.js';
import { describe, formatShape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** How a loss reduces its per-item losses: their mean (the default), their sum, or none (one loss per item). */
export type LossReduction = 'mean' | 'sum' | 'none';

/** Options every loss takes: how the per-item losses reduce to the result. */
export interface LossOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: LossReduction;
}

/** crossEntropy()'s options: the reduction and label smoothing. */
export interface CrossEntropyOptions extends LossOptions {
  /** PyTorch's label_smoothing in [0, 1]: the target becomes (1 - e) * target + e / classes. Default 0. */
  labelSmoothing?: number;
}

/** bceWithLogits()'s options: the reduction and the weight of positive targets. */
export interface BceWithLogitsOptions extends LossOptions {
  /** Weight of the positive term per class: a 1-d tensor as long as the last dimension of logits (or of length 1). */
  posWeight?: Tensor | null;
}

const REDUCTIONS: readonly LossReduction[] = ['mean', 'sum', 'none'];

function checkReduction(op: string, value: unknown): LossReduction {
  if (value === undefined) return 'mean';
  if (typeof value !== 'string') throw new TypeError(`${op}: reduction must be a string ('mean', 'sum' or 'none'), got ${describe(value)}`);
  if (!(REDUCTIONS as readonly string[]).includes(value)) {
    throw new RangeError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${value}'`);
  }
  return value as LossReduction;
}

/**
 * Where a loss writes its result: for 'mean' and 'sum' a 0-d tensor, whose storage is the
 * kernel's total (with the scale that makes it a mean or a sum); for 'none' the per-item
 * losses in `shape`.
 */
function lossOutput(op: string, be: AnyBackend, reduction: LossReduction, items: number, shape: readonly number[]) {
  const out = allocResult(op, reduction === 'none' ? shape : [], be);
  return {
    out,
    losses: reduction === 'none' ? out.storage : null,
    total: reduction === 'none' ? null : out.storage,
    scale: gradScale(reduction, items),
  };
}

/** The per-item scale of the upstream gradient: 1/items for a mean, else 1. */
function gradScale(reduction: LossReduction, items: number): number {
  return reduction === 'mean' ? 1 / items : 1;
}

/** @internal Class indices as int32, each checked to be an integer in [0, classes) (the compiled training step checks its labels here too). */
export function parseLabels(op: string, labels: unknown, n: number, classes: number, inputShape: readonly number[], inputName = 'logits'): Int32Array {
  if (labels instanceof Tensor && labels.ndim !== 1) {
    // As in PyTorch: [N, 1] labels are a common slip (they would broadcast wrongly elsewhere).
    throw new RangeError(`${op}: a labels tensor must be 1-d [${n}], got shape ${formatShape(labels.shape)}`);
  }
  const values = labels instanceof Tensor ? labels.toArray() : labels;
  if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError(`${op}: labels must be an array-like of class indices, got ${describe(labels)}`);
  }
  const list = values as ArrayLike<unknown>;
  if (list.length !== n) {
    throw new RangeError(`${op}: labels has ${list.length} entries but ${inputName} has ${n} rows (${inputName} ${formatShape(inputShape)})`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = list[i];
    if (typeof v !== 'number') throw new TypeError(`${op}: labels[${i}] must be a number, got ${describe(v)}`);
    if (!Number.isInteger(v)) throw new RangeError(`${op}: labels[${i}] must be an integer class index, got ${v}`);
    if (v < 0 || v >= classes) {
      throw new RangeError(`${op}: labels[${i}] is ${v}, out of range for ${classes} classes (${inputName} ${formatShape(inputShape)})`);
    }
    out[i] = v;
  }
  return out;
}

/** A 2-d [batch, classes] input with at least one row and one class. */
function checkRows(op: string, name: string, x: unknown): Tensor {
  const t = checkTensorRank(op, name, x, 2, '[batch, classes]');
  if (t.shape[0] === 0 || t.shape[1] === 0) {
    throw new RangeError(`${op}: ${name} must have at least one row and one class, got shape ${formatShape(t.shape)}`);
  }
  return t;
}

function checkSameShape(op: string, name: string, t: Tensor, inputName: string, input: Tensor): void {
  const same = sameShape(t.shape, input.shape);
  if (!same) {
    throw new RangeError(`${op}: ${name} ${formatShape(t.shape)} must have the same shape as ${inputName} ${formatShape(input.shape)}`);
  }
}

/**
 * Cross-entropy of logits [N, C] (PyTorch's cross_entropy). The target is either class labels
 * (an array-like or 1-d Tensor of N integers in [0, C)) or class probabilities (a Tensor [N, C],
 * soft labels: loss = -sum_c p_c logSoftmax(x)_c). Stable for logits of any magnitude. A 0-d
 * tensor for 'mean' / 'sum', [N] for 'none'. Differentiable w.r.t. logits; probability targets
 * receive no gradient.
 */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number> | Tensor, opts?: CrossEntropyOptions): Tensor {
  const op = 'crossEntropy';
  const x = checkRows(op, 'logits', logits);
  const o = checkOptions<CrossEntropyOptions>(op, opts, ['reduction', 'labelSmoothing']);
  const reduction = checkReduction(op, o.reduction);
  const smoothing = o.labelSmoothing === undefined ? 0 : checkFiniteNumber(op, 'labelSmoothing', o.labelSmoothing);
  if (smoothing < 0 || smoothing > 1) throw new RangeError(`${op}: labelSmoothing must be in [0, 1], got ${smoothing}`);
  const [n, c] = x.shape;
  const backend = backendFor(op, { logits: x, target: labels instanceof Tensor && labels.ndim === 2 ? labels : null });
  const probs = backend.empty(x.size);

  if (!(labels instanceof Tensor && labels.ndim === 2)) {
    const classes = parseLabels(op, labels, n, c, x.shape);
    if (reduction !== 'none' && smoothing === 0) {
      // Class labels, reduced: the fused softmax + NLL kernel.
      const target = backend.int32FromHost(classes);
      const { out, total, scale } = lossOutput(op, backend, reduction, n, [n]);
      backend.crossEntropy(x.storage, target, n, c, probs, total!, scale);
      return needsGrad(x) ? record(out, op, [x], (dy) => {
        const dx = backend.empty(x.size);
        backend.crossEntropyBackward(probs, target, n, c, dy, scale, dx);
        return [dx];
      }) : out;
    }
    // Per-row losses or smoothing: the labels as a dense (smoothed) target, through the soft kernel.
    const dense = new Float32Array(x.size).fill(smoothing / c);
    for (let r = 0; r < n; r++) dense[r * c + classes[r]] += 1 - smoothing;
    return softCrossEntropy(op, backend, x, backend.fromHost(dense), reduction, probs);
  }

  const t = labels;
  if (t.shape[0] !== n || t.shape[1] !== c) {
    throw new RangeError(`${op}: target probabilities ${formatShape(t.shape)} must have the shape of logits ${formatShape(x.shape)}`);
  }
  let dense = t.storage;
  if (smoothing > 0) {
    // (1 - smoothing) * target + smoothing / c, on the target's device.
    dense = backend.empty(t.size);
    backend.fill(dense, smoothing / c);
    backend.axpy(1 - smoothing, t.storage, dense);
  }
  return softCrossEntropy(op, backend, x, dense, reduction, probs);
}

function softCrossEntropy(op: string, backend: AnyBackend, x: Tensor, target: Storage, reduction: LossReduction, probs: Storage): Tensor {
  const [n, c] = x.shape;
  const { out, losses, total, scale } = lossOutput(op, backend, reduction, n, [n]);
  backend.crossEntropySoft(x.storage, target, n, c, probs, losses, total, scale);
  return needsGrad(x) ? record(out, op, [x], (dy) => {
    const dx = backend.empty(x.size);
    backend.crossEntropySoftBackward(probs, target, n, c, dy, scale, dx);
    return [dx];
  }) : out;
}

/**
 * Negative log-likelihood of log-probabilities [N, C] (e.g. logSoftmax output) at integer labels
 * in [0, C): -logProbs[n, label_n] (PyTorch's nll_loss). A 0-d tensor, or [N] for 'none'.
 */
export function nllLoss(logProbs: Tensor, labels: ArrayLike<number> | Tensor, opts?: LossOptions): Tensor {
  const op = 'nllLoss';
  const x = checkRows(op, 'logProbs', logProbs);
  const reduction = checkReduction(op, checkOptions<LossOptions>(op, opts, ['reduction']).reduction);
  const [n, c] = x.shape;
  const backend = backendFor(op, { logProbs: x });
  const target: IntStorage = backend.int32FromHost(parseLabels(op, labels, n, c, x.shape, 'logProbs'));
  const { out, losses, total, scale } = lossOutput(op, backend, reduction, n, [n]);
  backend.nllLoss(x.storage, target, n, c, losses, total, scale);
  return needsGrad(x) ? record(out, op, [x], (dy) => {
    const dx = backend.empty(x.size);
    backend.nllLossBackward(target, n, c, dy, scale, dx);
    return [dx];
  }) : out;
}

/**
 * Squared error (input - target)^2 of two tensors of the same shape (no broadcasting), reduced
 * (PyTorch's mse_loss). Differentiable w.r.t. both. A 0-d tensor, or the input's shape for 'none'.
 */
export function mseLoss(input: Tensor, target: Tensor, opts?: LossOptions): Tensor {
  const op = 'mseLoss';
  const x = checkTensor(op, 'input', input);
  const t = checkTensor(op, 'target', target);
  checkSameShape(op, 'target', t, 'input', x);
  const reduction = checkReduction(op, checkOptions<LossOptions>(op, opts, ['reduction']).reduction);
  const backend = backendFor(op, { input: x, target: t });
  const { out, losses, total, scale } = lossOutput(op, backend, reduction, x.size, x.shape);
  backend.mseLoss(x.storage, t.storage, losses, total, scale);
  return needsGrad(x, t) ? record(out, op, [x, t], (dy) => {
    const dx = x.requiresGrad ? backend.empty(x.size) : null;
    const dt = t.requiresGrad ? backend.empty(t.size) : null;
    backend.mseLossBackward(x.storage, t.storage, dy, scale, dx, dt);
    return [dx, dt];
  }) : out;
}

/**
 * Binary cross-entropy on logits against targets in [0, 1] of the same shape, in the stable form
 * max(x,0) - x t + log(1 + exp(-|x|)) (PyTorch's binary_cross_entropy_with_logits). posWeight
 * weights the positive term per class (last dimension). Differentiable w.r.t. logits and target.
 * A 0-d tensor, or the logits' shape for 'none'.
 */
export function bceWithLogits(logits: Tensor, target: Tensor, opts?: BceWithLogitsOptions): Tensor {
  const op = 'bceWithLogits';
  const x = checkTensor(op, 'logits', logits);
  const t = checkTensor(op, 'target', target);
  checkSameShape(op, 'target', t, 'logits', x);
  const o = checkOptions<BceWithLogitsOptions>(op, opts, ['reduction', 'posWeight']);
  const reduction = checkReduction(op, o.reduction);
  const pw = checkOptionalTensor(op, 'posWeight', o.posWeight);
  if (pw) {
    const last = x.ndim === 0 ? 1 : x.shape[x.ndim - 1];
    if (pw.ndim !== 1 || (pw.size !== last && pw.size !== 1)) {
      throw new RangeError(`${op}: posWeight ${formatShape(pw.shape)} must be 1-d with ${last} (the last dimension of logits ${formatShape(x.shape)}) or 1 elements`);
    }
  }
  const backend = backendFor(op, { logits: x, target: t, posWeight: pw });
  // On the host the targets are checked here; on a GPU that would cost a wait per call.
  if (t.device === 'cpu') {
    for (let i = 0; i < t.size; i++) {
      const v = t.data[i];
      if (v < 0 || v > 1) throw new RangeError(`${op}: target[${i}] is ${v}, outside [0, 1] (target ${formatShape(t.shape)})`);
    }
  }
  const posWeight = pw ? pw.storage : null;
  const { out, losses, total, scale } = lossOutput(op, backend, reduction, x.size, x.shape);
  backend.bceWithLogits(x.storage, t.storage, posWeight, losses, total, scale);
  return needsGrad(x, t) ? record(out, op, [x, t], (dy) => {
    const dx = x.requiresGrad ? backend.empty(x.size) : null;
    const dt = t.requiresGrad ? backend.empty(t.size) : null;
    backend.bceWithLogitsBackward(x.storage, t.storage, posWeight, dy, scale, dx, dt);
    return [dx, dt];
  }) : out;
}
