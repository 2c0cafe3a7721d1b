// BatchNorm2d: per-channel normalisation of [N, C, H, W]. Training mode uses the batch
// statistics and updates the running ones; eval mode uses the running ones. Without
// trackRunningStats it always uses the batch statistics, as in PyTorch.
import { backendForDevice } from '../backend/registry.js';
import { checkBoolean, checkFiniteNumber, checkInt, checkOptions } from '../check.js';
import { batchNorm2d } from '../ops/batchnorm.js';
import type { Tensor } from '../tensor.js';
import { Module, type ModuleConfig } from './module.js';
import { createTensors } from './deferred.js';

/** nn.BatchNorm2d's options, with PyTorch's names and defaults. */
export interface BatchNorm2dLayerOptions {
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
  /** Weight of each batch in the running statistics; default 0.1. */
  momentum?: number;
  /** Learned per-channel weight (init 1) and bias (init 0); default true. */
  affine?: boolean;
  /** Keep running statistics for eval mode; default true. */
  trackRunningStats?: boolean;
}

/**
 * Batch normalization over N, H and W per channel, as torch.nn.BatchNorm2d: batch statistics in
 * training (updating the running ones), running statistics in eval mode.
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  /** Buffers (saved as running_mean, running_var, num_batches_tracked, PyTorch's names). */
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  /** Training steps seen, a float32 scalar (exact up to 2^24). */
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(readonly numFeatures: number, options: BatchNorm2dLayerOptions = {}) {
    super();
    const op = 'BatchNorm2d';
    const opts = checkOptions<BatchNorm2dLayerOptions>(op, options, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    checkInt(op, 'numFeatures', numFeatures, 1);
    this.eps = checkFiniteNumber(op, 'eps', opts.eps ?? 1e-5);
    this.momentum = checkFiniteNumber(op, 'momentum', opts.momentum ?? 0.1);
    if (!(this.eps > 0)) throw new RangeError(`${op}: eps must be positive, got ${this.eps}`);
    if (this.momentum < 0 || this.momentum > 1) throw new RangeError(`${op}: momentum must be in [0, 1], got ${this.momentum}`);
    this.affine = checkBoolean(op, 'affine', opts.affine, true);
    this.trackRunningStats = checkBoolean(op, 'trackRunningStats', opts.trackRunningStats, true);
    const track = this.trackRunningStats;
    const features = [numFeatures];
    const initial = [1, 0, 0, 1, 0]; // weight, bias, running mean, running var, batches tracked
    const [weight, bias, mean, variance, batches] = createTensors(op,
      [this.affine ? features : null, this.affine ? features : null, track ? features : null, track ? features : null, track ? [] : null],
      (tensors) => tensors.forEach((t, i) => t?.data.fill(initial[i])));
    this.weight = this.registerParameter('weight', weight);
    this.bias = this.registerParameter('bias', bias);
    this.runningMean = this.registerBuffer('running_mean', mean);
    this.runningVar = this.registerBuffer('running_var', variance);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', batches);
  }

  forward(x: Tensor): Tensor {
    const useBatchStats = this.training || !this.trackRunningStats;
    const y = batchNorm2d(x, this.runningMean, this.runningVar, this.weight, this.bias,
      { training: useBatchStats, momentum: this.momentum, eps: this.eps });
    if (this.training && this.numBatchesTracked) countBatch(this.numBatchesTracked);
    return y;
  }

  toConfig(): ModuleConfig {
    return {
      type: 'BatchNorm2d',
      args: [this.numFeatures, { eps: this.eps, momentum: this.momentum, affine: this.affine, trackRunningStats: this.trackRunningStats }],
    };
  }
}

/** counter += 1 on the counter's own device (no wait for a GPU). */
function countBatch(counter: Tensor): void {
  const be = backendForDevice(counter.device);
  const one = be.alloc(1);
  be.fill(one, 1);
  be.axpy(1, one, counter.storage);
}
