// Adam and AdamW, exactly as torch.optim.Adam / AdamW (t = the parameter's step count):
//   Adam:  g = grad + weightDecay * p              (L2 through the gradient)
//   AdamW: p *= 1 - lr * weightDecay; g = grad     (decoupled decay)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   amsgrad: vMax = max(vMax, v), and vMax replaces v below
//   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
import { checkBoolean, checkOptions } from '../check.js';
import { describe } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { AnyBackend, Storage } from '../backend/types.js';
import { Optimizer, type ParamState } from './optimizer.js';
import { numberOption } from './options.js';

/** Adam's and AdamW's options, with PyTorch's names and defaults. */
export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  /** Adam: L2 added to the gradient (default 0). AdamW: decoupled decay (default 0.01). */
  weightDecay?: number;
  /** Use the largest second moment seen so far (Reddi et al., 2018). */
  amsgrad?: boolean;
}

/** The shared Adam update; decoupled chooses AdamW's weight decay. */
abstract class AdamBase extends Optimizer {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;

  protected constructor(op: string, params: Iterable<Tensor>, options: AdamOptions, defaultWeightDecay: number, private readonly decoupled: boolean) {
    const o = checkOptions<AdamOptions>(op, options, ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad']);
    super(op, params, o.lr ?? 1e-3);
    this.betas = checkBetas(op, o.betas);
    this.eps = numberOption(op, 'eps', o.eps, 1e-8, { min: 0, minExclusive: true });
    this.weightDecay = numberOption(op, 'weightDecay', o.weightDecay, defaultWeightDecay, { min: 0 });
    this.amsgrad = checkBoolean(op, 'amsgrad', o.amsgrad, false);
  }

  protected bufferNames(): readonly string[] {
    return this.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
  }

  protected updateParam(be: AnyBackend, p: Storage, grad: Storage, state: ParamState): void {
    const { expAvg, expAvgSq, maxExpAvgSq } = state.buffers;
    const [beta1, beta2] = this.betas;
    be.adamStep(p, grad, expAvg, expAvgSq, this.amsgrad ? maxExpAvgSq : null, {
      lr: this.lr, beta1, beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled, step: state.step,
    });
  }
}

/** Adam, as torch.optim.Adam: weight decay is added to the gradient (L2); AdamW decouples it. */
export class Adam extends AdamBase {
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super('Adam', params, options, 0, false);
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter, 2019). */
export class AdamW extends AdamBase {
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super('AdamW', params, options, 0.01, true);
  }
}

function checkBetas(op: string, betas: unknown): readonly [number, number] {
  if (betas === undefined) return [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError(`${op}: betas must be an array [beta1, beta2], got ${describe(betas)}`);
  const [beta1, beta2] = betas.map((beta: unknown, k) => {
    if (beta === undefined) throw new TypeError(`${op}: betas[${k}] must be a number, got undefined`);
    return numberOption(op, `betas[${k}]`, beta, 0, { min: 0, max: 1, maxExclusive: true });
  });
  return Object.freeze([beta1, beta2] as const);
}
