// RMSprop, exactly as torch.optim.RMSprop:
//   g = grad + weightDecay * p
//   v = alpha * v + (1 - alpha) * g^2
//   centered: a = alpha * a + (1 - alpha) * g;  denom = sqrt(v - a^2) + eps
//   else:     denom = sqrt(v) + eps
//   momentum > 0: buf = momentum * buf + g / denom;  p -= lr * buf   (buf starts at 0)
//   else:         p -= lr * g / denom
import { checkBoolean, checkOptions } from '../check.js';
import type { Tensor } from '../tensor.js';
import type { AnyBackend, Storage } from '../backend/types.js';
import { Optimizer, type ParamState } from './optimizer.js';
import { numberOption } from './options.js';

/** RMSprop's options, with PyTorch's names and defaults. */
export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  /** Divide by the gradient's estimated variance rather than its second moment. */
  centered?: boolean;
}

/**
 * RMSprop, as torch.optim.RMSprop: steps scaled by a running mean of squared gradients, optionally
 * centered and with momentum.
 */
export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly centered: boolean;

  constructor(params: Iterable<Tensor>, options: RMSpropOptions = {}) {
    const op = 'RMSprop';
    const o = checkOptions<RMSpropOptions>(op, options, ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered']);
    super(op, params, o.lr ?? 0.01);
    this.alpha = numberOption(op, 'alpha', o.alpha, 0.99, { min: 0, max: 1 });
    this.eps = numberOption(op, 'eps', o.eps, 1e-8, { min: 0, minExclusive: true });
    this.weightDecay = numberOption(op, 'weightDecay', o.weightDecay, 0, { min: 0 });
    this.momentum = numberOption(op, 'momentum', o.momentum, 0, { min: 0 });
    this.centered = checkBoolean(op, 'centered', o.centered, false);
  }

  protected bufferNames(): readonly string[] {
    return ['squareAvg', ...(this.momentum > 0 ? ['momentumBuffer'] : []), ...(this.centered ? ['gradAvg'] : [])];
  }

  protected updateParam(be: AnyBackend, p: Storage, grad: Storage, state: ParamState): void {
    const { lr, alpha, eps, weightDecay, momentum, centered } = this;
    const { squareAvg, momentumBuffer, gradAvg } = state.buffers;
    be.rmspropStep(p, grad, squareAvg, momentum > 0 ? momentumBuffer : null, centered ? gradAvg : null,
      { lr, alpha, eps, weightDecay, momentum });
  }
}
