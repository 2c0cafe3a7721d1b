// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay,
// exactly as torch.optim.SGD:
//   g = grad + weightDecay * p
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   d = nesterov ? g + momentum * buf : buf        (d = g when momentum is 0)
//   p -= lr * d
import { checkBoolean, checkOptions } from '../check.js';
import type { Tensor } from '../tensor.js';
import type { AnyBackend, Storage } from '../backend/types.js';
import { Optimizer, type ParamState } from './optimizer.js';
import { numberOption } from './options.js';

/** SGD's options, with PyTorch's names and defaults. */
export interface SGDOptions {
  /** Default 1e-3, as PyTorch 2. */
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight
 * decay, as torch.optim.SGD.
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: Iterable<Tensor>, options: SGDOptions = {}) {
    const o = checkOptions<SGDOptions>('SGD', options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay']);
    super('SGD', params, o.lr ?? 1e-3);
    this.momentum = numberOption('SGD', 'momentum', o.momentum, 0, { min: 0 });
    this.dampening = numberOption('SGD', 'dampening', o.dampening, 0);
    this.nesterov = checkBoolean('SGD', 'nesterov', o.nesterov, false);
    this.weightDecay = numberOption('SGD', 'weightDecay', o.weightDecay, 0, { min: 0 });
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum=${this.momentum}, dampening=${this.dampening}`);
    }
  }

  protected bufferNames(): readonly string[] {
    return this.momentum !== 0 ? ['momentumBuffer'] : [];
  }

  protected updateParam(be: AnyBackend, p: Storage, grad: Storage, state: ParamState): void {
    const { lr, momentum, dampening, weightDecay, nesterov } = this;
    be.sgdStep(p, grad, momentum !== 0 ? state.buffers.momentumBuffer : null,
      { lr, momentum, dampening, weightDecay, nesterov, first: state.step === 1 });
  }
}
