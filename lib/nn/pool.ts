// Pooling layers over [N, C, H, W]; the options are checked by the pooling ops themselves.
import { checkOptions } from '../check.js';
import { immutableOptions, parsePoolOptions, type AvgPool2dOptions, type MaxPool2dOptions, type Pair } from '../geometry.js';
import { avgPool2d, globalAvgPool2d, maxPool2d } from '../ops/pool.js';
import type { Tensor } from '../tensor.js';
import { Module, type ModuleConfig } from './module.js';

/** Max pooling over 2-D windows, as torch.nn.MaxPool2d. */
export class MaxPool2d extends Module {
  /** @internal The options maxPool2d gets (read by compile). */
  readonly options: MaxPool2dOptions;

  constructor(readonly kernelSize: Pair, options: MaxPool2dOptions = {}) {
    super();
    parsePoolOptions('MaxPool2d', kernelSize, options, 'max'); // bad options fail here, not at the first forward
    this.options = immutableOptions(checkOptions<MaxPool2dOptions>('MaxPool2d', options, ['stride', 'padding', 'dilation', 'ceilMode', 'anyPadding']));
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }

  toConfig(): ModuleConfig {
    return { type: 'MaxPool2d', args: [this.kernelSize, { ...this.options }] };
  }
}

/** Average pooling over 2-D windows, as torch.nn.AvgPool2d. */
export class AvgPool2d extends Module {
  /** @internal The options avgPool2d gets (read by compile). */
  readonly options: AvgPool2dOptions;

  constructor(readonly kernelSize: Pair, options: AvgPool2dOptions = {}) {
    super();
    parsePoolOptions('AvgPool2d', kernelSize, options, 'avg');
    this.options = immutableOptions(checkOptions<AvgPool2dOptions>('AvgPool2d', options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'anyPadding']));
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }

  toConfig(): ModuleConfig {
    return { type: 'AvgPool2d', args: [this.kernelSize, { ...this.options }] };
  }
}

/** Mean over each plane: [N, C, H, W] -> [N, C, 1, 1]. */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }

  toConfig(): ModuleConfig {
    return { type: 'GlobalAvgPool2d', args: [] };
  }
}
