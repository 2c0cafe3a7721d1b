// Activation layers: thin wrappers of the activation ops, with no parameters.
import { checkFiniteNumber, checkInt } from '../check.js';
import { leakyRelu, relu, sigmoid, softmax, tanh } from '../ops/activation.js';
import type { Tensor } from '../tensor.js';
import { Module, type ModuleConfig } from './module.js';

/** relu() as a layer. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }

  toConfig(): ModuleConfig {
    return { type: 'ReLU', args: [] };
  }
}

/** leakyRelu() as a layer. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    checkFiniteNumber('LeakyReLU', 'negativeSlope', negativeSlope);
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  toConfig(): ModuleConfig {
    return { type: 'LeakyReLU', args: [this.negativeSlope] };
  }
}

/** tanh() as a layer. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }

  toConfig(): ModuleConfig {
    return { type: 'Tanh', args: [] };
  }
}

/** sigmoid() as a layer. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }

  toConfig(): ModuleConfig {
    return { type: 'Sigmoid', args: [] };
  }
}

/** Softmax along axis (default the last). */
export class Softmax extends Module {
  constructor(readonly axis = -1) {
    super();
    checkInt('Softmax', 'axis', axis, -Infinity); // the range depends on the input, checked by softmax
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }

  toConfig(): ModuleConfig {
    return { type: 'Softmax', args: [this.axis] };
  }
}
