// Residual: y = body(x) + shortcut(x), the skip connection of a ResNet block. The children are
// 'body' and 'shortcut' (absent for the identity), so state dict names are body.* and
// shortcut.*; summary, exportOnnx and the config walk both branches.
import { describe } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add } from '../ops/binary.js';
import { Module, type ModuleConfig } from './module.js';

/**
 * y = body(x) + shortcut(x), or body(x) + x without a shortcut: a residual (skip) connection,
 * as in a ResNet basic block. The two outputs must have one shape, or shapes that broadcast.
 *
 * ```ts
 * const block = new nn.Sequential(
 *   new nn.Residual(
 *     new nn.Sequential(new nn.Conv2d(16, 32, 3, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(32), new nn.ReLU(),
 *       new nn.Conv2d(32, 32, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(32)),
 *     new nn.Sequential(new nn.Conv2d(16, 32, 1, { stride: 2, bias: false }), new nn.BatchNorm2d(32))),
 *   new nn.ReLU());
 * ```
 */
export class Residual extends Module {
  readonly body: Module;
  readonly shortcut: Module | null;

  constructor(body: Module, shortcut: Module | null = null) {
    super();
    if (!(body instanceof Module)) throw new TypeError(`Residual: body must be a Module, got ${describe(body)}`);
    if (shortcut !== null && shortcut !== undefined && !(shortcut instanceof Module)) {
      throw new TypeError(`Residual: shortcut must be a Module, null or undefined, got ${describe(shortcut)}`);
    }
    this.body = this.registerModule('body', body);
    this.shortcut = shortcut ? this.registerModule('shortcut', shortcut) : null;
  }

  forward(x: Tensor): Tensor {
    const skip = this.shortcut ? this.shortcut.forward(x) : x;
    return add(this.body.forward(x), skip);
  }

  toConfig(): ModuleConfig {
    return { type: 'Residual', args: [this.body.toConfig(), ...(this.shortcut ? [this.shortcut.toConfig()] : [])] };
  }
}
