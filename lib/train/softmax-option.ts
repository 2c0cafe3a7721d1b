// The { softmax } option that predict, the batcher and the worker pool share: the raw outputs
// by default (as Keras and PyTorch), softmax probabilities over the classes on request.
import { checkBoolean } from '../check.js';
import type { Module } from '../nn/module.js';
import { Softmax } from '../nn/activation.js';
import { Sequential } from '../nn/sequential.js';
import { softmax } from '../ops/activation.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Whether the model ends in a Softmax layer (its raw outputs are probabilities already). */
function endsInSoftmax(model: Module): boolean {
  let m: Module = model;
  while (m instanceof Sequential && m.length > 0) m = m[m.length - 1];
  return m instanceof Softmax;
}

/**
 * options.softmax as a boolean (default false). Asking for softmax on a model that ends in
 * Softmax is a RangeError: applying it twice would silently flatten the probabilities.
 * The removed `raw` option gets a message saying what replaced it.
 */
export function checkSoftmaxOption(op: string, model: Module, options: object, value: unknown): boolean {
  if (Object.hasOwn(options, 'raw')) {
    throw new TypeError(`${op}: the 'raw' option is gone: outputs are raw by default; pass { softmax: true } for probabilities`);
  }
  const on = checkBoolean(op, 'softmax', value, false);
  if (on && endsInSoftmax(model)) {
    throw new RangeError(`${op}: the model already ends in Softmax, so its outputs are probabilities; leave out { softmax: true }`);
  }
  return on;
}

/** softmax over dim 1 of a model output [N, classes], naming the option when the output has another shape. */
export function softmaxRows(op: string, y: Tensor): Tensor {
  if (y.ndim !== 2) throw new RangeError(`${op}: { softmax: true } needs a model output [N, classes], but the model returns ${formatShape(y.shape)}`);
  return softmax(y, 1);
}
