// The layer list of a compiled training step: a Module resolved once, for one sample of
// inputShape, with training semantics (Dropout drops, BatchNorm2d normalises by the batch and
// moves its running statistics), and the tensors each layer reads and writes. A ReLU after a
// conv or linear becomes its epilogue. Whatever the native step cannot express is a reason
// string naming the layer, and fit trains that model eagerly.
import { convGeometry, poolGeometry, type AvgPool2dOptions, type Pair } from '../geometry.js';
import type { ConvGeometry, PoolGeometry } from '../backend/types.js';
import { formatShape, numel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Module } from '../nn/module.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { Flatten } from '../nn/shape.js';
import { Dropout } from '../nn/dropout.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { ReLU } from '../nn/activation.js';
import { planLeaves } from './plan.js';

export type TrainStep =
  | { op: 'conv'; geometry: ConvGeometry; relu: boolean; bias: boolean }
  | { op: 'linear'; inFeatures: number; outFeatures: number; relu: boolean; bias: boolean }
  | { op: 'maxPool' | 'avgPool'; geometry: PoolGeometry }
  | { op: 'relu' }
  | { op: 'batchNorm'; channels: number; plane: number; eps: number; momentum: number; bias: boolean }
  | { op: 'dropout'; scale: number };

export interface TrainPlan {
  steps: TrainStep[];
  /** Per sample, without the batch dim. */
  inputShape: readonly number[];
  /** Classes: the model's output per sample is [classes]. */
  classes: number;
  /** The parameters in the native plan's slot order (per layer: weight, then bias). */
  params: Tensor[];
  batchNorms: BatchNorm2d[];
  /** Each Dropout with p > 0, and the elements per sample it drops from. */
  dropouts: Array<{ layer: Dropout; size: number }>;
  /** Every leaf module, whose training flags must stay on for the plan to hold. */
  leaves: Module[];
}

/** The layer classes a training plan takes, by exact class (a subclass may override forward). */
const TRAINABLE: ReadonlySet<Function> = new Set([Conv2d, Linear, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, GlobalAvgPool2d,
  Flatten, Dropout]);

/** Resolves model for training on samples of inputShape, or says why it cannot. */
export function buildTrainPlan(model: Module, inputShape: readonly number[]): TrainPlan | { reason: string } {
  const steps: TrainStep[] = [];
  const params: Tensor[] = [];
  const batchNorms: BatchNorm2d[] = [];
  const dropouts: TrainPlan['dropouts'] = [];
  const leaves: Module[] = [];
  let shape: readonly number[] = inputShape;
  const batched = () => [1, ...shape];
  const why = (name: string, layer: Module, reason: string) => ({ reason: `layer ${name} (${layer.constructor.name}) ${reason}` });
  for (const [name, layer] of planLeaves(model)) {
    if (!TRAINABLE.has(layer.constructor)) return why(name, layer, 'is not a layer the compiled training step supports');
    if (!layer.training) return why(name, layer, 'is in eval mode');
    leaves.push(layer);
    const prev = steps[steps.length - 1];
    if (layer instanceof Conv2d) {
      if (shape.length !== 3) return why(name, layer, `needs a [C, H, W] sample, gets ${formatShape(shape)}`);
      const geometry = convGeometry('fit', batched(), layer.weight.shape, layer.convOptions);
      steps.push({ op: 'conv', geometry, relu: false, bias: layer.bias !== null });
      params.push(layer.weight, ...(layer.bias ? [layer.bias] : []));
      shape = [geometry.o, geometry.oh, geometry.ow];
    } else if (layer instanceof Linear) {
      if (shape.length !== 1 || shape[0] !== layer.inFeatures) return why(name, layer, `needs a flat sample of ${layer.inFeatures} features, gets ${formatShape(shape)}`);
      steps.push({ op: 'linear', inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, relu: false, bias: layer.bias !== null });
      params.push(layer.weight, ...(layer.bias ? [layer.bias] : []));
      shape = [layer.outFeatures];
    } else if (layer instanceof BatchNorm2d) {
      if (shape.length !== 3 || shape[0] !== layer.numFeatures) return why(name, layer, `needs [${layer.numFeatures}, H, W] samples, gets ${formatShape(shape)}`);
      steps.push({ op: 'batchNorm', channels: shape[0], plane: shape[1] * shape[2], eps: layer.eps, momentum: layer.momentum, bias: layer.affine });
      if (layer.weight && layer.bias) params.push(layer.weight, layer.bias);
      batchNorms.push(layer);
    } else if (layer instanceof ReLU) {
      if (prev && (prev.op === 'conv' || prev.op === 'linear') && !prev.relu) prev.relu = true;
      else steps.push({ op: 'relu' });
    } else if (layer instanceof MaxPool2d) {
      if (shape.length !== 3) return why(name, layer, `needs a [C, H, W] sample, gets ${formatShape(shape)}`);
      const geometry = poolGeometry('fit', batched(), layer.kernelSize, layer.options, 'max');
      steps.push({ op: 'maxPool', geometry });
      shape = [geometry.c, geometry.oh, geometry.ow];
    } else if (layer instanceof AvgPool2d || layer instanceof GlobalAvgPool2d) {
      if (shape.length !== 3) return why(name, layer, `needs a [C, H, W] sample, gets ${formatShape(shape)}`);
      const [kernel, options]: [Pair, AvgPool2dOptions] = layer instanceof AvgPool2d ? [layer.kernelSize, layer.options] : [[shape[1], shape[2]], {}];
      const geometry = poolGeometry('fit', batched(), kernel, options, 'avg');
      steps.push({ op: 'avgPool', geometry });
      shape = [geometry.c, geometry.oh, geometry.ow];
    } else if (layer instanceof Flatten) {
      if (layer.startDim !== 1) return why(name, layer, `flattens from dim ${layer.startDim}`);
      shape = [numel(shape)];
    } else if (layer instanceof Dropout) {
      if (layer.p === 0) continue; // the identity, and it draws nothing
      steps.push({ op: 'dropout', scale: 1 / (1 - layer.p) });
      dropouts.push({ layer, size: numel(shape) });
    }
  }
  if (steps.length === 0) return { reason: 'the model has no layer that computes anything' };
  const last = steps[steps.length - 1];
  if (shape.length !== 1 || last.op === 'batchNorm') return { reason: `the model's output per sample is ${formatShape(shape)}, not [classes]` };
  return { steps, inputShape: inputShape.slice(), classes: shape[0], params, batchNorms, dropouts, leaves };
}
