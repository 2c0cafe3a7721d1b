// Flatten: joins the dims from startDim on, [N, C, H, W] -> [N, C*H*W] by default.
import { checkInt } from '../check.js';
import { flatten } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { Module, type ModuleConfig } from './module.js';

/** Flattens every dimension after the batch: [N, C, H, W] to [N, C*H*W]. */
export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
    checkInt('Flatten', 'startDim', startDim, -Infinity); // the range depends on the input, checked by flatten
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim);
  }

  toConfig(): ModuleConfig {
    return { type: 'Flatten', args: [this.startDim] };
  }
}
