// batchNorm2d with PyTorch semantics: training normalises by the batch statistics (biased
// variance) and moves the running statistics toward them (unbiased variance), in place; eval
// normalises by the running statistics.
import type { Storage } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, emptyResult, checkBoolean, checkFiniteNumber, checkOptionalTensor, checkOptions, checkTensorRank } from '../check.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** batchNorm2d()'s options: training or evaluation mode, momentum and eps, with PyTorch's defaults. */
export interface BatchNorm2dOptions {
  /** Batch statistics (and running-stat updates) when true; running statistics when false. */
  training?: boolean;
  /** Weight of the new batch statistics in the running average; default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
}

/** A per-channel vector [C], or null; RangeError naming the argument otherwise. */
function channelVector(op: string, name: string, value: unknown, c: number, x: Tensor): Tensor | null {
  const t = checkOptionalTensor(op, name, value);
  if (t && (t.ndim !== 1 || t.shape[0] !== c)) {
    throw new RangeError(`${op}: ${name} must have shape [${c}] (one value per channel), got ${formatShape(t.shape)} (input ${formatShape(x.shape)})`);
  }
  return t;
}

/**
 * Batch normalisation of x [N,C,H,W] per channel. runningMean / runningVar [C] may be null
 * only when training (no running statistics are kept then); weight / bias [C] may be null
 * (no affine transform).
 */
export function batchNorm2d(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null,
  weight: Tensor | null, bias: Tensor | null, options?: BatchNorm2dOptions): Tensor {
  const op = 'batchNorm2d';
  const input = checkTensorRank(op, 'input', x, 4, 'NCHW');
  const opts = checkOptions<BatchNorm2dOptions>(op, options, ['training', 'momentum', 'eps']);
  const training = checkBoolean(op, 'training', opts.training, false);
  const momentum = checkFiniteNumber(op, 'momentum', opts.momentum ?? 0.1);
  const eps = checkFiniteNumber(op, 'eps', opts.eps ?? 1e-5);
  if (momentum < 0 || momentum > 1) throw new RangeError(`${op}: momentum must be in [0, 1], got ${momentum}`);
  if (eps <= 0) throw new RangeError(`${op}: eps must be positive, got ${eps}`);
  const [n, c, h, w] = input.shape;
  const hw = h * w;
  const rMean = channelVector(op, 'runningMean', runningMean, c, input);
  const rVar = channelVector(op, 'runningVar', runningVar, c, input);
  const gamma = channelVector(op, 'weight', weight, c, input);
  const beta = channelVector(op, 'bias', bias, c, input);
  if ((rMean === null) !== (rVar === null)) throw new TypeError(`${op}: runningMean and runningVar must both be tensors or both be null`);
  const count = n * hw;
  if (training && count < 2) {
    throw new RangeError(`${op}: training needs more than 1 value per channel to compute a variance, got input ${formatShape(input.shape)}`);
  }
  if (!training && !rMean) throw new RangeError(`${op}: eval mode needs runningMean and runningVar (got null)`);

  const backend = backendFor(op, { input, runningMean: rMean, runningVar: rVar, weight: gamma, bias: beta });
  // Fresh buffers either way: later training steps update the running statistics in place, and
  // the backward pass must see the values this forward pass used.
  const mean: Storage = backend.empty(c);
  const invStd: Storage = backend.empty(c);
  if (training) {
    backend.batchNorm2dTrainStats(input.storage, n, c, hw, eps, momentum, mean, invStd, rMean?.storage ?? null, rVar?.storage ?? null);
    if (rMean && rVar) { // moved in place: a compiled model's folded copy is stale now
      rMean.version += 1;
      rVar.version += 1;
    }
  } else {
    backend.batchNorm2dEvalStats(c, rMean!.storage, rVar!.storage, eps, mean, invStd);
  }

  const out = emptyResult(op, input.shape, backend);
  if (out.size > 0) backend.batchNorm2dForward(input.storage, n, c, hw, mean, invStd, gamma?.storage ?? null, beta?.storage ?? null, out.storage);
  return needsGrad(input, gamma, beta) ? record(out, op, [input, gamma, beta], (dy) => {
    const dx = input.requiresGrad ? backend.empty(input.size) : null;
    const dw = gamma?.requiresGrad ? backend.empty(c) : null;
    const db = beta?.requiresGrad ? backend.empty(c) : null;
    backend.batchNorm2dBackward(input.storage, dy, n, c, hw, mean, invStd, gamma?.storage ?? null, training, dx, dw, db);
    return [dx, dw, db];
  }) : out;
}
