// Weight creation and initialisation shared by the layers with weights (Conv2d, Conv1d,
// Linear). The default is PyTorch's reset_parameters: kaiming_uniform with a = sqrt(5) for
// the weight (uniform within +-1/sqrt(fanIn)) and uniform within +-1/sqrt(fanIn) for the bias,
// weight first, all from the default generator.
import { fans, initializerByName, kaimingUniform, uniform, type InitName } from '../init/index.js';
import { describe } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** An initializer name (see initializerByName) or a function that fills the weight in place. */
export type WeightInit = InitName | ((weight: Tensor) => void);

export function checkWeightInit(op: string, init: unknown): WeightInit | undefined {
  if (init === undefined || typeof init === 'function') return init as WeightInit | undefined;
  if (typeof init === 'string') {
    initializerByName(init as InitName); // throws a RangeError listing the names for an unknown one
    return init as InitName;
  }
  throw new TypeError(`${op}: init must be an initializer name or a function (weight) => void, got ${describe(init)}`);
}

/** Fills weight (by init, or PyTorch's default) and then bias (PyTorch's default). */
export function initWeightAndBias(weight: Tensor, bias: Tensor | null, init: WeightInit | undefined): void {
  if (init === undefined) kaimingUniform(weight, { a: Math.sqrt(5) });
  else if (typeof init === 'string') initializerByName(init)(weight);
  else init(weight);
  if (bias) {
    const bound = 1 / Math.sqrt(fans(weight.shape).fanIn);
    uniform(bias, -bound, bound);
  }
}
