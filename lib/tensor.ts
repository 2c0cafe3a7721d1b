// Tensor: a shape plus float32 storage, and the autograd fields. Storage is a plain
// Float32Array for now; `data` is the one place that touches it, so device storage can come
// in behind it later.
import { runBackward, type GradNode } from './autograd.js';
import { checkedNumel, describe, formatShape, numel, parseShape } from './shape.js';

export interface TensorOptions {
  requiresGrad?: boolean;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** True for parameters (set by the user) and for op results that depend on them. */
  requiresGrad: boolean;
  /** The summed gradient, on leaves only (tensors not produced by a recorded op). */
  grad: Tensor | null = null;
  /** @internal The tape entry of the op that produced this tensor, when it was recorded. */
  gradFn: GradNode | null = null;

  /**
   * Wraps data without copying it; shape must be valid and match data.length. Prefer the
   * tensor() factory, which validates and copies.
   */
  constructor(data: Float32Array, shape: readonly number[], requiresGrad = false) {
    if (data.length !== numel(shape)) {
      throw new RangeError(`Tensor: data has ${data.length} elements but shape ${formatShape(shape)} needs ${numel(shape)}`);
    }
    this.data = data;
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze(shape.slice());
    this.requiresGrad = requiresGrad;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The value of a 1-element tensor. */
  item(): number {
    if (this.data.length !== 1) {
      throw new RangeError(`item: only a 1-element tensor has an item, but this tensor has shape ${formatShape(this.shape)}`);
    }
    return this.data[0];
  }

  /** A copy of the data, row-major. */
  toArray(): Float32Array {
    return this.data.slice();
  }

  /** The same data, cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad,
   * adding it to leaf.grad. Without an argument the tensor must hold one element (a loss).
   */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) {
      throw new Error(`backward: this tensor ${formatShape(this.shape)} does not require grad (no input of the ops that made it had requiresGrad, or it was made under noGrad)`);
    }
    let seed: Float32Array;
    if (grad === undefined) {
      if (this.size !== 1) {
        throw new RangeError(`backward: a gradient can be implied only for a 1-element (scalar) tensor, but this one has shape ${formatShape(this.shape)}; pass backward(grad) with a gradient of that shape`);
      }
      seed = new Float32Array([1]);
    } else {
      if (!(grad instanceof Tensor)) throw new TypeError(`backward: grad must be a Tensor, got ${describe(grad)}`);
      if (grad.shape.length !== this.shape.length || grad.shape.some((d, i) => d !== this.shape[i])) {
        throw new RangeError(`backward: grad has shape ${formatShape(grad.shape)} but the tensor has shape ${formatShape(this.shape)}`);
      }
      seed = grad.data.slice(); // the walk accumulates in place
    }
    runBackward(this, seed);
  }

  /** @internal Adds g (which the tensor may keep) to this leaf's gradient. */
  accumulateGrad(g: Float32Array): void {
    if (this.grad === null) {
      this.grad = new Tensor(g, this.shape);
      return;
    }
    const acc = this.grad.data;
    for (let i = 0; i < acc.length; i++) acc[i] += g[i];
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const length = (value as { length?: unknown }).length;
  return typeof length === 'number' && Number.isInteger(length) && length >= 0;
}

/** A new tensor holding a float32 copy of data, laid out row-major in shape. */
export function tensor(data: ArrayLike<number>, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  if (!isArrayLike(data)) {
    throw new TypeError(`tensor: data must be an array-like of numbers (Array, Float32Array, ...), got ${describe(data)}`);
  }
  const dims = parseShape('tensor', shape);
  const n = checkedNumel('tensor', 'shape', dims);
  if (opts === null || typeof opts !== 'object') throw new TypeError(`tensor: opts must be an object, got ${describe(opts)}`);
  const requiresGrad = opts.requiresGrad ?? false;
  if (typeof requiresGrad !== 'boolean') {
    throw new TypeError(`tensor: opts.requiresGrad must be a boolean, got ${describe(requiresGrad)}`);
  }
  if (!ArrayBuffer.isView(data)) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') {
        throw new TypeError(`tensor: data[${i}] must be a number, got ${describe(data[i])}${Array.isArray(data[i]) ? ' (flatten nested arrays first)' : ''}`);
      }
    }
  }
  if (data.length !== n) {
    throw new RangeError(`tensor: data has ${data.length} elements but shape ${formatShape(dims)} needs ${n}`);
  }
  return new Tensor(Float32Array.from(data), dims, requiresGrad);
}
