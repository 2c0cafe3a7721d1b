// A step's weights as its kernel takes them, and the tensors they come from. BatchNorm folds
// into the conv before it (w' = w * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var +
// eps)) or, alone, becomes a per-channel scale s and shift beta - mean * s. Computed in float64
// and rounded once.
import type { Tensor } from '../tensor.js';
import type { BatchNorm2d } from '../nn/batchnorm.js';
import type { PlanStep, WeightSources } from './plan.js';

export interface StepWeights {
  weight: Float32Array;
  bias: Float32Array | null;
}

/** Every tensor a step's weights are computed from (a change to any one makes them stale). */
export function sourceTensors(sources: WeightSources): Tensor[] {
  const own = sources.conv ?? sources.linear;
  const bn = sources.batchNorm;
  const all = [own?.weight, own?.bias, bn?.weight, bn?.bias, bn?.runningMean, bn?.runningVar];
  return all.filter((t): t is Tensor => t !== null && t !== undefined);
}

/** gamma / sqrt(var + eps) and beta - mean * that, per channel. */
function batchNormAffine(bn: BatchNorm2d): { scale: Float64Array; shift: Float64Array } {
  const mean = bn.runningMean!.toArray();
  const variance = bn.runningVar!.toArray();
  const gamma = bn.weight?.toArray();
  const beta = bn.bias?.toArray();
  const scale = new Float64Array(mean.length);
  const shift = new Float64Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + bn.eps);
    shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** The weights of a step that has them (conv, linear, channel affine); null for the others. */
export function stepWeights(step: PlanStep): StepWeights | null {
  if (step.op === 'linear') {
    const { weight, bias } = step.sources.linear!;
    return { weight: weight.toArray(), bias: bias ? bias.toArray() : null };
  }
  if (step.op === 'channelAffine') {
    const { scale, shift } = batchNormAffine(step.sources.batchNorm!);
    return { weight: Float32Array.from(scale), bias: Float32Array.from(shift) };
  }
  if (step.op !== 'conv') return null;
  const { weight, bias } = step.sources.conv!;
  const w = weight.toArray();
  const b = bias ? bias.toArray() : null;
  const bn = step.sources.batchNorm;
  if (!bn) return { weight: w, bias: b };
  const { scale, shift } = batchNormAffine(bn);
  const perOut = w.length / scale.length;
  const folded = new Float32Array(scale.length);
  for (let o = 0; o < scale.length; o++) {
    for (let i = o * perOut; i < (o + 1) * perOut; i++) w[i] = w[i] * scale[o];
    folded[o] = (b ? b[o] : 0) * scale[o] + shift[o];
  }
  return { weight: w, bias: folded };
}
