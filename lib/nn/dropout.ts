// Dropout: zeroes each element with probability p in training mode (scaling the rest by
// 1/(1-p)); the identity after eval().
import { dropout, checkDropoutProbability } from '../ops/dropout.js';
import type { Tensor } from '../tensor.js';
import { Module, type ModuleConfig } from './module.js';

/**
 * Zeroes each element with probability p in training mode and scales the rest by 1/(1-p); the
 * identity in eval mode.
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkDropoutProbability('Dropout', p);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  toConfig(): ModuleConfig {
    return { type: 'Dropout', args: [this.p] };
  }
}
