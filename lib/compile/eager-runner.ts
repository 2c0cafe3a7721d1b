// Runs a plan with the eager ops, for the backends without a native plan (js, and cuda, where
// the ops queue on the GPU) and for plans with a Residual's stack steps (which the native plan
// lacks): the same steps and the same folded weights, under noGrad, with each intermediate
// given back as soon as the next step has read it and no saved branch still needs it.
import { noGrad } from '../autograd.js';
import { backendForDevice } from '../backend/registry.js';
import type { DeviceName } from '../backend/types.js';
import { conv2d } from '../ops/conv.js';
import { linear } from '../ops/gemm.js';
import { avgPool2d, maxPool2d } from '../ops/pool.js';
import { leakyRelu, relu, sigmoid, softmax, tanh } from '../ops/activation.js';
import { reshape } from '../ops/shape.js';
import { add } from '../ops/binary.js';
import { batchNorm2d } from '../ops/batchnorm.js';
import { Tensor } from '../tensor.js';
import type { Plan, PlanStep } from './plan.js';
import type { StepWeights } from './weights.js';

export class EagerRunner {
  private readonly weights: Array<{ weight: Tensor; bias: Tensor | null } | null>;

  constructor(private readonly plan: Plan, private readonly device: DeviceName) {
    this.weights = plan.steps.map(() => null);
  }

  /** A conv's or linear's kernel weights (a channel affine runs its BatchNorm2d itself). */
  setWeights(step: number, w: StepWeights): void {
    const s = this.plan.steps[step];
    if (s.op !== 'conv' && s.op !== 'linear') return;
    const be = backendForDevice(this.device);
    const old = this.weights[step];
    old?.weight.dispose();
    old?.bias?.dispose();
    const shape = s.op === 'conv' ? [s.geometry.o, s.geometry.c / s.geometry.groups, s.geometry.kh, s.geometry.kw] : [s.outFeatures, s.inFeatures];
    this.weights[step] = {
      weight: new Tensor(be.fromHost(w.weight), shape),
      bias: w.bias ? new Tensor(be.fromHost(w.bias), [w.bias.length]) : null,
    };
  }

  run(x: Tensor): Tensor {
    return noGrad(() => {
      const n = x.shape[0];
      let cur = x;
      const saved: Tensor[] = []; // a Residual's inputs and body outputs, until addSaved
      const release = (t: Tensor) => {
        if (t !== x && !saved.includes(t)) t.free(false);
      };
      this.plan.steps.forEach((step, i) => {
        if (step.op === 'save') {
          saved.push(cur);
        } else if (step.op === 'swap') {
          [cur, saved[saved.length - 1]] = [saved[saved.length - 1], cur];
        } else if (step.op === 'addSaved') {
          const other = saved.pop()!;
          const next = add(reshape(cur, [n, ...step.shape]), reshape(other, [n, ...step.savedShape]));
          release(cur);
          if (other !== cur) release(other);
          cur = next;
        } else {
          const next = this.apply(step, i, cur, n);
          release(cur);
          cur = next;
        }
      });
      return reshape(cur, [n, ...this.plan.outputShape]);
    });
  }

  private apply(step: Exclude<PlanStep, { op: 'save' | 'swap' | 'addSaved' }>, i: number, x: Tensor, n: number): Tensor {
    const w = this.weights[i];
    switch (step.op) {
      case 'conv': return this.epilogue(step.relu, conv2d(x, w!.weight, w!.bias, step.options));
      case 'linear': return this.epilogue(step.relu, linear(x.ndim === 2 ? x : reshape(x, [n, step.inFeatures]), w!.weight, w!.bias));
      case 'channelAffine': { // the BatchNorm2d itself, in eval mode, on x's backend
        const bn = step.sources.batchNorm!;
        const y = batchNorm2d(x, bn.runningMean, bn.runningVar, bn.weight, bn.bias, { training: false, eps: bn.eps });
        return this.epilogue(step.relu, y);
      }
      case 'maxPool': return maxPool2d(x, step.kernel, step.options);
      case 'avgPool': return avgPool2d(x, step.kernel, step.options);
      case 'relu': return relu(x);
      case 'leakyRelu': return leakyRelu(x, step.slope);
      case 'sigmoid': return sigmoid(x);
      case 'tanh': return tanh(x);
      case 'softmax': return reshape(softmax(reshape(x, [n * (x.size / n / (step.dim * step.inner)), step.dim, step.inner]), 1), x.shape);
    }
  }

  private epilogue(fused: boolean, y: Tensor): Tensor {
    if (!fused) return y;
    const out = relu(y);
    y.free(false);
    return out;
  }
}
