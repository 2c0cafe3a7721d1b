// The layer list of a compiled model: a Module resolved once, for one sample of inputShape, into
// steps with eval-mode semantics (Dropout is gone, BatchNorm uses its running statistics and
// folds into the conv before it, a ReLU after a conv, linear or BatchNorm becomes its
// epilogue). A Residual becomes stack steps around its branches (nothing fuses across them).
// A layer the plan cannot express is a TypeError that names it, so the caller can fall back
// to eager ops.
import { convGeometry, poolGeometry, type AvgPool2dOptions, type Conv2dOptions, type MaxPool2dOptions, type Pair } from '../geometry.js';
import type { ConvGeometry, PoolGeometry } from '../backend/types.js';
import { formatShape, normalizeAxis, numel, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Module } from '../nn/module.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { Flatten } from '../nn/shape.js';
import { Dropout } from '../nn/dropout.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from '../nn/activation.js';
import { Sequential } from '../nn/sequential.js';
import { Residual } from '../nn/residual.js';
import { joinResidual } from '../summary/summary.js';

/** Where a step's weights come from: every tensor whose change must refresh them. */
export interface WeightSources {
  conv?: { weight: Tensor; bias: Tensor | null };
  linear?: { weight: Tensor; bias: Tensor | null };
  /** A BatchNorm2d folded into the conv before it, or applied alone as a channel affine. */
  batchNorm?: BatchNorm2d;
}

export type PlanStep =
  | { op: 'conv'; geometry: ConvGeometry; options: Conv2dOptions; relu: boolean; sources: WeightSources; names: string[] }
  | { op: 'linear'; inFeatures: number; outFeatures: number; relu: boolean; sources: WeightSources; names: string[] }
  | { op: 'channelAffine'; channels: number; plane: number; relu: boolean; sources: WeightSources; names: string[] }
  | { op: 'maxPool'; geometry: PoolGeometry; kernel: Pair; options: MaxPool2dOptions; names: string[] }
  | { op: 'avgPool'; geometry: PoolGeometry; kernel: Pair; options: AvgPool2dOptions; names: string[] }
  | { op: 'relu' | 'sigmoid' | 'tanh'; names: string[] }
  | { op: 'leakyRelu'; slope: number; names: string[] }
  | { op: 'softmax'; dim: number; inner: number; names: string[] }
  // A Residual as stack steps: save pushes the current value, swap exchanges it with the top
  // (the body's output goes aside, the saved input comes back for the shortcut), addSaved
  // pops the top and adds it. shape and savedShape are the per-sample shapes of the current
  // value and the popped one (a Flatten, which is no step, may have changed them).
  | { op: 'save'; names: string[] }
  | { op: 'swap'; names: string[] }
  | { op: 'addSaved'; shape: readonly number[]; savedShape: readonly number[]; names: string[] };

export interface Plan {
  steps: PlanStep[];
  /**
   * Whether it holds a Residual's stack steps. The native plan runs them when every join adds
   * values of one shape; a join that broadcasts runs on the eager runner.
   */
  branches: boolean;
  /** Per sample, without the batch dim. */
  inputShape: readonly number[];
  outputShape: readonly number[];
}

/**
 * The layer classes a plan takes, by exact class: a subclass may override forward, so it runs
 * eagerly.
 */
const PLANNED: ReadonlySet<Function> = new Set([Conv2d, Linear, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, GlobalAvgPool2d,
  Flatten, Dropout, LeakyReLU, Sigmoid, Tanh, Softmax]);

/** The leaves of model in the order forward runs them, with their names ('0', '2.1', '3.body.0'). */
export function planLeaves(model: Module): Array<[string, Module]> {
  const out: Array<[string, Module]> = [];
  const visit = (m: Module, name: string) => {
    // Exact classes: a subclass may run its children otherwise.
    if (m.constructor === Sequential || m.constructor === Residual) {
      for (const [child, sub] of (m as Module).namedChildren()) visit(sub, name ? `${name}.${child}` : child);
    } else {
      out.push([name || '0', m]);
    }
  };
  visit(model, '');
  return out;
}

export function unsupported(name: string, layer: Module, why: string): TypeError {
  return new TypeError(`compile: layer ${name} (${layer.constructor.name}) ${why}; run the model eagerly with model.forward`);
}

/** Resolves model for samples of inputShape; a TypeError names the first layer it cannot take. */
export function buildPlan(model: Module, inputShape: readonly number[]): Plan {
  const steps: PlanStep[] = [];
  let shape: readonly number[] = inputShape;
  const batched = () => [1, ...shape];
  const visit = (module: Module, name: string): void => {
    const child = (c: string) => (name ? `${name}.${c}` : c);
    if (module instanceof Sequential && module.constructor === Sequential) {
      for (const [c, m] of module.namedChildren()) visit(m, child(c));
    } else if (module instanceof Residual && module.constructor === Residual) {
      const input = shape;
      steps.push({ op: 'save', names: [name || '0'] });
      visit(module.body, child('body'));
      const bodyShape = shape;
      if (module.shortcut) {
        steps.push({ op: 'swap', names: [name || '0'] });
        shape = input;
        visit(module.shortcut, child('shortcut'));
      }
      const [current, saved] = module.shortcut ? [shape, bodyShape] : [bodyShape, input];
      const field = { rf: 1, jump: 1 };
      shape = joinResidual('compile', name || '0', bodyShape, module.shortcut ? shape : input, field, field).outputShape;
      steps.push({ op: 'addSaved', shape: current, savedShape: saved, names: [name || '0'] });
    } else {
      leaf(name || '0', module);
    }
  };
  const leaf = (name: string, layer: Module): void => {
    if (!PLANNED.has(layer.constructor)) {
      throw unsupported(name, layer, 'is not a layer compiled plans support (Conv2d, Linear, BatchNorm2d, pooling, Flatten, Dropout, the activations, Sequential and Residual, by exact class)');
    }
    const prev = steps[steps.length - 1];
    if (layer instanceof Conv2d) {
      if (shape.length !== 3) throw unsupported(name, layer, `needs a [C, H, W] sample, gets ${formatShape(shape)}`);
      const geometry = convGeometry('compile', batched(), layer.weight.shape, layer.convOptions);
      steps.push({ op: 'conv', geometry, options: layer.convOptions, relu: false, sources: { conv: { weight: layer.weight, bias: layer.bias } }, names: [name] });
      shape = [geometry.o, geometry.oh, geometry.ow];
    } else if (layer instanceof Linear) {
      if (shape.length !== 1 || shape[0] !== layer.inFeatures) {
        throw unsupported(name, layer, `needs a flat sample of ${layer.inFeatures} features, gets ${formatShape(shape)}`);
      }
      steps.push({ op: 'linear', inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, relu: false, sources: { linear: { weight: layer.weight, bias: layer.bias } }, names: [name] });
      shape = [layer.outFeatures];
    } else if (layer instanceof BatchNorm2d) {
      if (!layer.trackRunningStats) throw unsupported(name, layer, 'keeps no running statistics, so its eval mode depends on the batch');
      if (shape.length !== 3 || shape[0] !== layer.numFeatures) throw unsupported(name, layer, `needs [${layer.numFeatures}, H, W] samples, gets ${formatShape(shape)}`);
      if (prev?.op === 'conv' && !prev.relu && !prev.sources.batchNorm) {
        prev.sources.batchNorm = layer; // folded: w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps)
        prev.names.push(name);
      } else {
        steps.push({ op: 'channelAffine', channels: shape[0], plane: shape[1] * shape[2], relu: false, sources: { batchNorm: layer }, names: [name] });
      }
    } else if (layer instanceof ReLU) {
      if (prev && (prev.op === 'conv' || prev.op === 'linear' || prev.op === 'channelAffine') && !prev.relu) {
        prev.relu = true;
        prev.names.push(name);
      } else {
        steps.push({ op: 'relu', names: [name] });
      }
    } else if (layer instanceof MaxPool2d) {
      if (shape.length !== 3) throw unsupported(name, layer, `needs a [C, H, W] sample, gets ${formatShape(shape)}`);
      const geometry = poolGeometry('compile', batched(), layer.kernelSize, layer.options, 'max');
      steps.push({ op: 'maxPool', geometry, kernel: layer.kernelSize, options: layer.options, names: [name] });
      shape = [geometry.c, geometry.oh, geometry.ow];
    } else if (layer instanceof AvgPool2d || layer instanceof GlobalAvgPool2d) {
      if (shape.length !== 3) throw unsupported(name, layer, `needs a [C, H, W] sample, gets ${formatShape(shape)}`);
      const [kernel, options]: [Pair, AvgPool2dOptions] = layer instanceof AvgPool2d ? [layer.kernelSize, layer.options] : [[shape[1], shape[2]], {}];
      const geometry = poolGeometry('compile', batched(), kernel, options, 'avg');
      steps.push({ op: 'avgPool', geometry, kernel, options, names: [name] });
      shape = [geometry.c, geometry.oh, geometry.ow];
    } else if (layer instanceof Flatten) {
      if (layer.startDim !== 1) throw unsupported(name, layer, `flattens from dim ${layer.startDim}, and only startDim 1 keeps the batch apart`);
      shape = [numel(shape)];
    } else if (layer instanceof Dropout) {
      // eval mode: the identity
    } else if (layer instanceof LeakyReLU) {
      steps.push({ op: 'leakyRelu', slope: layer.negativeSlope, names: [name] });
    } else if (layer instanceof Sigmoid || layer instanceof Tanh) {
      steps.push({ op: layer instanceof Sigmoid ? 'sigmoid' : 'tanh', names: [name] });
    } else if (layer instanceof Softmax) {
      const axis = normalizeAxis('compile', 'axis', layer.axis, [1, ...shape]);
      if (axis === 0) throw unsupported(name, layer, 'normalises over the batch');
      steps.push({ op: 'softmax', dim: shape[axis - 1], inner: numel(shape.slice(axis)), names: [name] });
    }
  };
  visit(model, '');
  if (steps.length === 0) throw new TypeError('compile: the model has no layer that computes anything; run it eagerly');
  const branches = steps.some((s) => s.op === 'save');
  return { steps, branches, inputShape: inputShape.slice(), outputShape: shape.slice() };
}

/** Whether the native plan runs this plan: a chain, or residual joins of same-shaped values. */
export function nativeRunnable(plan: Plan): boolean {
  return plan.steps.every((step) => step.op !== 'addSaved' || sameShape(step.shape, step.savedShape));
}
