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
import { Optimizer, type ParamState } from './optimizer.js';
import { numberOption } from './options.js';

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

  protected updateParam(p: Float32Array, grad: Float32Array, state: ParamState): void {
    const { lr, eps, amsgrad } = this;
    const [beta1, beta2] = this.betas;
    const { expAvg, expAvgSq, maxExpAvgSq } = state.buffers;
    const stepSize = lr / (1 - beta1 ** state.step);
    const sqrtBiasCorrection2 = Math.sqrt(1 - beta2 ** state.step);
    const decay = this.decoupled ? 1 - lr * this.weightDecay : 1;
    const l2 = this.decoupled ? 0 : this.weightDecay;
    for (let i = 0; i < p.length; i++) {
      const w = p[i] * decay;
      const g = grad[i] + l2 * w;
      const m = (expAvg[i] = beta1 * expAvg[i] + (1 - beta1) * g);
      let v = (expAvgSq[i] = beta2 * expAvgSq[i] + (1 - beta2) * g * g);
      if (amsgrad) v = maxExpAvgSq[i] = Math.max(maxExpAvgSq[i], v);
      p[i] = w - (stepSize * m) / (Math.sqrt(v) / sqrtBiasCorrection2 + eps);
    }
  }
}

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
