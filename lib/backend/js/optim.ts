// The optimizer updates as plain loops (torch.optim's formulas, native/include/convkit/optim.h
// has the same in C++): the reference the cpu and cuda kernels are tested against.
import type { AdamStepOptions, RmspropStepOptions, SgdStepOptions } from '../types.js';

// buf = g on the first step, else momentum * buf + (1 - dampening) * g; p -= lr * (nesterov ? g + momentum * buf : buf).
export function sgdStep(p: Float32Array, grad: Float32Array, buf: Float32Array | null, o: SgdStepOptions): void {
  const { lr, momentum, weightDecay, nesterov } = o;
  if (momentum === 0 || !buf) {
    for (let i = 0; i < p.length; i++) p[i] -= lr * (grad[i] + weightDecay * p[i]);
    return;
  }
  const gradScale = 1 - o.dampening;
  for (let i = 0; i < p.length; i++) {
    const g = grad[i] + weightDecay * p[i];
    const b = o.first ? g : momentum * buf[i] + gradScale * g; // the first buffer is the gradient itself
    buf[i] = b;
    p[i] -= lr * (nesterov ? g + momentum * b : b);
  }
}

export function adamStep(p: Float32Array, grad: Float32Array, expAvg: Float32Array, expAvgSq: Float32Array,
  maxExpAvgSq: Float32Array | null, o: AdamStepOptions): void {
  const { lr, beta1, beta2, eps } = o;
  const stepSize = lr / (1 - beta1 ** o.step);
  const sqrtBiasCorrection2 = Math.sqrt(1 - beta2 ** o.step);
  const decay = o.decoupled ? 1 - lr * o.weightDecay : 1;
  const l2 = o.decoupled ? 0 : o.weightDecay;
  for (let i = 0; i < p.length; i++) {
    const w = p[i] * decay;
    const g = grad[i] + l2 * w;
    const m = (expAvg[i] = beta1 * expAvg[i] + (1 - beta1) * g);
    let v = (expAvgSq[i] = beta2 * expAvgSq[i] + (1 - beta2) * g * g);
    if (maxExpAvgSq) v = maxExpAvgSq[i] = Math.max(maxExpAvgSq[i], v);
    p[i] = w - (stepSize * m) / (Math.sqrt(v) / sqrtBiasCorrection2 + eps);
  }
}

export function rmspropStep(p: Float32Array, grad: Float32Array, squareAvg: Float32Array, momentumBuffer: Float32Array | null,
  gradAvg: Float32Array | null, o: RmspropStepOptions): void {
  const { lr, alpha, eps, weightDecay, momentum } = o;
  for (let i = 0; i < p.length; i++) {
    const g = grad[i] + weightDecay * p[i];
    const v = (squareAvg[i] = alpha * squareAvg[i] + (1 - alpha) * g * g);
    let variance = v;
    if (gradAvg) {
      const a = (gradAvg[i] = alpha * gradAvg[i] + (1 - alpha) * g);
      variance = Math.max(v - a * a, 0); // a variance; rounding can take it just below 0 (NaN stays NaN)
    }
    const scaled = g / (Math.sqrt(variance) + eps);
    if (momentum > 0 && momentumBuffer) p[i] -= lr * (momentumBuffer[i] = momentum * momentumBuffer[i] + scaled);
    else p[i] -= lr * scaled;
  }
}
