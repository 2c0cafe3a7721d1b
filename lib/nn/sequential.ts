// Sequential: runs its layers in order. Layers are children '0', '1', ..., so parameter
// names are PyTorch's ('0.weight', '3.bias'); seq[i] and seq.length read them back.
import type { Tensor } from '../tensor.js';
import { describe } from '../shape.js';
import { Module, type ModuleConfig } from './module.js';
import { Intermediates, keepsNoReferences } from './intermediates.js';

/**
 * Runs its modules in order, each on the previous one's output; children are named 0, 1, 2, ... as
 * in PyTorch.
 */
export class Sequential extends Module {
  readonly [index: number]: Module;
  private readonly layers: Module[] = [];
  private readonly intermediates = new Intermediates();

  constructor(...layers: Module[]) {
    super();
    for (const layer of layers) this.append(layer);
  }

  get length(): number {
    return this.layers.length;
  }

  /** Adds a layer at the end; returns this. */
  append(layer: Module): this {
    if (!(layer instanceof Module)) throw new TypeError(`Sequential: layer ${this.layers.length} must be a Module, got ${describe(layer)}`);
    const index = this.layers.length;
    this.registerModule(String(index), layer);
    this.layers.push(layer);
    Object.defineProperty(this, index, { value: layer, enumerable: true });
    return this;
  }

  /**
   * Runs the layers in order. An output passed between two of convkit's own layers goes back to
   * the cache at the next forward call once no backward pass needs it (see intermediates.ts).
   */
  forward(x: Tensor): Tensor {
    this.intermediates.release();
    let y = x;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      const out = layer.forward(y);
      if (i > 0 && out !== y && keepsNoReferences(this.layers[i - 1]) && keepsNoReferences(layer)) this.intermediates.add(y, out);
      y = out;
    }
    return y;
  }

  /** The modules, in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  toConfig(): ModuleConfig {
    return { type: 'Sequential', args: this.layers.map((layer) => layer.toConfig()) };
  }
}
