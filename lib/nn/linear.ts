// Linear: y = x W^T + b for x [N, in], W [out, in] (PyTorch's layout).
import { checkBoolean, checkInt, checkOptions } from '../check.js';
import { linear } from '../ops/gemm.js';
import type { Tensor } from '../tensor.js';
import { Module, type ModuleConfig } from './module.js';
import { checkWeightInit, initWeightAndBias, type WeightInit } from './weights.js';
import { createTensors } from './deferred.js';

/** nn.Linear's options: whether there is a bias and how the weights start. */
export interface LinearOptions {
  /** Whether the layer adds a learned bias; default true. */
  bias?: boolean;
  /** The weight's initializer; default PyTorch's (kaiming uniform, a = sqrt(5)). */
  init?: WeightInit;
}

/** A fully connected layer, y = x W^T + b, with W [out, in] as in PyTorch. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly hasBias: boolean;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    const op = 'Linear';
    const opts = checkOptions<LinearOptions>(op, options, ['bias', 'init']);
    checkInt(op, 'inFeatures', inFeatures, 1);
    checkInt(op, 'outFeatures', outFeatures, 1);
    this.hasBias = checkBoolean(op, 'bias', opts.bias, true);
    const init = checkWeightInit(op, opts.init);
    const [weight, bias] = createTensors(op, [[outFeatures, inFeatures], this.hasBias ? [outFeatures] : null],
      ([w, b]) => initWeightAndBias(w as Tensor, b, init));
    this.weight = this.registerParameter('weight', weight as Tensor);
    this.bias = this.registerParameter('bias', bias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  toConfig(): ModuleConfig {
    return { type: 'Linear', args: [this.inFeatures, this.outFeatures, { bias: this.hasBias }] };
  }
}
