// Sequential: runs its layers in order. Layers are children '0', '1', ..., so parameter
// names are PyTorch's ('0.weight', '3.bias'); seq[i] and seq.length read them back.
import type { Tensor } from '../tensor.js';
import { describe } from '../shape.js';
import { Module, type ModuleConfig } from './module.js';

export class Sequential extends Module {
  readonly [index: number]: Module;
  private readonly layers: Module[] = [];

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

  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  toConfig(): ModuleConfig {
    return { type: 'Sequential', args: this.layers.map((layer) => layer.toConfig()) };
  }
}
