// Sequential's intermediate outputs, given back to the cache instead of waiting for GC. Between
// two of convkit's own layers an intermediate is seen by nobody else: these layers keep no
// reference to their input or output once forward returns, and the user never sees it. So
// once nothing on the tape still needs it (no tape, or the backward pass that used it has run),
// its memory can serve the next forward pass: inference and training reuse the same blocks
// step after step instead of allocating fresh ones and leaving the old to V8's GC.
import type { Tensor } from '../tensor.js';
import { Conv1d, Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from './pool.js';
import { Flatten } from './shape.js';
import { Dropout } from './dropout.js';
import { BatchNorm2d } from './batchnorm.js';
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from './activation.js';
import type { Module } from './module.js';

// Exact classes only: a subclass may override forward and keep its input.
const KEEPS_NO_REFERENCES = new Set<unknown>([Conv1d, Conv2d, Linear, AvgPool2d, GlobalAvgPool2d, MaxPool2d, Flatten,
  Dropout, BatchNorm2d, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh]);

export function keepsNoReferences(layer: Module): boolean {
  return KEEPS_NO_REFERENCES.has(layer.constructor);
}

/** An intermediate and the output of the layer that consumed it (whose tape entry may still need it). */
interface Intermediate {
  tensor: Tensor;
  consumer: Tensor;
}

export class Intermediates {
  private pending: Intermediate[] = [];

  add(tensor: Tensor, consumer: Tensor): void {
    this.pending.push({ tensor, consumer });
  }

  /**
   * Disposes the intermediates that no tape entry needs any more: the consumer's layer recorded
   * nothing, or the backward pass through it has run (and released every entry upstream).
   * Views (Flatten) hold their own count of the memory, so it goes only with the last.
   */
  release(): void {
    const kept: Intermediate[] = [];
    for (const item of this.pending) {
      const node = item.consumer.gradFn;
      if (node === null || node.backward === null) item.tensor.free(false);
      else kept.push(item);
    }
    this.pending = kept;
  }
}
