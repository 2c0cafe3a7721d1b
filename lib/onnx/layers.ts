// Each convkit layer as ONNX nodes, in eval mode (Dropout passes through, BatchNorm2d uses its
// running statistics). Spatial sizes are known from inputShape, so padding ('same', ceil mode)
// is written out as explicit pads rather than left to a runtime's auto_pad rules.
import { convGeometry, poolGeometry } from '../geometry.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Module } from '../nn/module.js';
import { Conv1d, Conv2d, planePadding, type Conv1dLayerOptions, type Conv2dLayerOptions } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { Flatten } from '../nn/shape.js';
import { Dropout } from '../nn/dropout.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from '../nn/activation.js';
import { floatAttr, intAttr, intsAttr, type GraphBuilder } from './graph-builder.js';

/** Where one layer goes in the graph. */
export interface LayerContext {
  readonly graph: GraphBuilder;
  /** The layer's path in the model ('3', '2.1'); '' when the model is the layer itself. */
  readonly path: string;
  /** The name of the value the layer reads. */
  readonly input: string;
  /** Its shape without the batch dim. */
  readonly inputShape: readonly number[];
  readonly opset: number;
}

/** Adds a layer's nodes; returns the name of the value it outputs. */
type Emitter<L extends Module> = (layer: L, ctx: LayerContext) => string;

/** A weight or buffer's initializer, named as in the state dict ('0.weight'). */
function initializer(ctx: LayerContext, name: string, t: Tensor): string {
  return ctx.graph.addFloatInitializer(ctx.path ? `${ctx.path}.${name}` : name, t.shape, t.toArray());
}

/** Node and value names: the layer's path, or its type when the model is the layer itself. */
function base(ctx: LayerContext, layer: Module): string {
  return ctx.path || layer.constructor.name;
}

/** A layer that is a single node with the layer's input. */
function single(opType: string, ctx: LayerContext, layer: Module, inputs: readonly string[] = [], attrs: Parameters<GraphBuilder['addNode']>[4] = []): string {
  const name = base(ctx, layer);
  return ctx.graph.addNode(opType, name, [ctx.input, ...inputs], `${name}.output`, attrs);
}

const conv2d: Emitter<Conv2d> = (layer, ctx) => {
  const { bias: _bias, ...options } = layer.toConfig().args[3] as Conv2dLayerOptions;
  const g = convGeometry('Conv2d', [1, ...ctx.inputShape], layer.weight.shape, options);
  const params = [initializer(ctx, 'weight', layer.weight), ...(layer.bias ? [initializer(ctx, 'bias', layer.bias)] : [])];
  return single('Conv', ctx, layer, params, [
    intsAttr('kernel_shape', [g.kh, g.kw]), intsAttr('strides', [g.strideH, g.strideW]),
    intsAttr('pads', [g.padTop, g.padLeft, g.padBottom, g.padRight]), intsAttr('dilations', [g.dilationH, g.dilationW]),
    intAttr('group', g.groups),
  ]);
};

// ONNX Conv is N-d, so Conv1d is a 1-d Conv on [N, C, L] with its own [O, C/groups, k] weight.
const conv1d: Emitter<Conv1d> = (layer, ctx) => {
  const options = layer.toConfig().args[3] as Conv1dLayerOptions;
  const [c, length] = ctx.inputShape;
  const [o, ci, k] = layer.weight.shape;
  const g = convGeometry('Conv1d', [1, c, 1, length], [o, ci, 1, k], {
    stride: [1, options.stride ?? 1], dilation: [1, options.dilation ?? 1],
    padding: planePadding('Conv1d', options.padding), groups: options.groups ?? 1,
  });
  const params = [initializer(ctx, 'weight', layer.weight), ...(layer.bias ? [initializer(ctx, 'bias', layer.bias)] : [])];
  return single('Conv', ctx, layer, params, [
    intsAttr('kernel_shape', [k]), intsAttr('strides', [g.strideW]), intsAttr('pads', [g.padLeft, g.padRight]),
    intsAttr('dilations', [g.dilationW]), intAttr('group', g.groups),
  ]);
};

// convkit's Linear takes [N, features] only (its forward rejects more dims), which is Gemm's
// input; summary() lets more dims through, so they are rejected here rather than exported.
const linear: Emitter<Linear> = (layer, ctx) => {
  if (ctx.inputShape.length !== 1) {
    throw new RangeError(`exportOnnx: layer ${ctx.path || '(model)'} (Linear ${layer.inFeatures}->${layer.outFeatures}) gets input [${ctx.inputShape.join(', ')}] but takes only [features] (flatten first)`);
  }
  const weight = initializer(ctx, 'weight', layer.weight);
  const params = layer.bias ? [weight, initializer(ctx, 'bias', layer.bias)] : [weight];
  return single('Gemm', ctx, layer, params, [intAttr('transB', 1)]);
};

/** Padding after the input that makes floor mode give the ceil-mode size (0 when it already does). */
function ceilPadding(out: number, stride: number, effectiveKernel: number, paddedSize: number): number {
  return Math.max(0, (out - 1) * stride + effectiveKernel - paddedSize);
}

type PoolGeometry = ReturnType<typeof poolGeometry>;

/** The extra end padding [rows, columns] that stands in for ceil mode. */
function ceilPaddings(g: PoolGeometry): [number, number] {
  return [
    ceilPadding(g.oh, g.strideH, g.dilationH * (g.kh - 1) + 1, g.h + g.padTop + g.padBottom),
    ceilPadding(g.ow, g.strideW, g.dilationW * (g.kw - 1) + 1, g.w + g.padLeft + g.padRight),
  ];
}

// Ceil mode is always written as floor mode with extra end padding, never as ceil_mode: ONNX
// before opset 19 (and runtimes of that time) keeps a last window that starts in the padding,
// which convkit (as PyTorch) drops. MaxPool pads with -inf, so the extra padding changes nothing.
const maxPool2d: Emitter<MaxPool2d> = (layer, ctx) => {
  const [kernel, options] = layer.toConfig().args;
  const g = poolGeometry('MaxPool2d', [1, ...ctx.inputShape], kernel, options, 'max');
  const [extraH, extraW] = ceilPaddings(g);
  return single('MaxPool', ctx, layer, [], [
    intsAttr('kernel_shape', [g.kh, g.kw]), intsAttr('strides', [g.strideH, g.strideW]),
    intsAttr('pads', [g.padTop, g.padLeft, g.padBottom + extraH, g.padRight + extraW]), intsAttr('dilations', [g.dilationH, g.dilationW]),
  ]);
};

// AveragePool with count_include_pad 0 leaves the extra end padding out of the divisor, as
// convkit's ceil-mode windows leave out what lies past the padding. When the layer counts its
// own padding, that padding is made real zeros by a Pad node first, so that it is counted.
const avgPool2d: Emitter<AvgPool2d> = (layer, ctx) => {
  const [kernel, options] = layer.toConfig().args;
  const g = poolGeometry('AvgPool2d', [1, ...ctx.inputShape], kernel, options, 'avg');
  const [extraH, extraW] = ceilPaddings(g);
  const pads = [g.padTop, g.padLeft, g.padBottom, g.padRight];
  const window = [intsAttr('kernel_shape', [g.kh, g.kw]), intsAttr('strides', [g.strideH, g.strideW])];
  if (extraH === 0 && extraW === 0) {
    return single('AveragePool', ctx, layer, [], [...window, intsAttr('pads', pads), intAttr('count_include_pad', g.countIncludePad ? 1 : 0)]);
  }
  if (!g.countIncludePad || pads.every((p) => p === 0)) {
    return single('AveragePool', ctx, layer, [], [...window, intsAttr('pads', [g.padTop, g.padLeft, g.padBottom + extraH, g.padRight + extraW])]);
  }
  const name = base(ctx, layer);
  const padding = ctx.graph.addInt64Initializer(`${name}.pads`, [0, 0, g.padTop, g.padLeft, 0, 0, g.padBottom, g.padRight]);
  const padded = ctx.graph.addNode('Pad', `${name}.pad`, [ctx.input, padding], `${name}.padded`);
  return ctx.graph.addNode('AveragePool', name, [padded], `${name}.output`, [...window, intsAttr('pads', [0, 0, extraH, extraW])]);
};

// ONNX Flatten always makes 2-d [N, rest] output; convkit's keeps the dims before startDim, so
// any other startDim than 1 is a Reshape to [0 (copy), ..., 0, -1 (the rest)].
const flatten: Emitter<Flatten> = (layer, ctx) => {
  const start = normalizeAxis('Flatten', 'startDim', layer.startDim, [1, ...ctx.inputShape]);
  if (start === 1) return single('Flatten', ctx, layer, [], [intAttr('axis', 1)]);
  const shape = ctx.graph.addInt64Initializer(`${base(ctx, layer)}.shape`, [...Array<number>(start).fill(0), -1]);
  return single('Reshape', ctx, layer, [shape]);
};

const batchNorm2d: Emitter<BatchNorm2d> = (layer, ctx) => {
  if (!layer.trackRunningStats || !layer.runningMean || !layer.runningVar) {
    throw new RangeError(`exportOnnx: layer ${ctx.path || '(model)'} (BatchNorm2d ${layer.numFeatures}) has trackRunningStats false, so even in eval mode it normalises each batch by its own statistics; ONNX BatchNormalization needs running statistics (build the layer with trackRunningStats: true)`);
  }
  const name = base(ctx, layer);
  const constant = (suffix: string, value: number) =>
    ctx.graph.addFloatInitializer(`${name}.${suffix}`, [layer.numFeatures], new Float32Array(layer.numFeatures).fill(value));
  // Without affine the layer has no weight and bias: the identity scale and shift stand in.
  const scale = layer.weight ? initializer(ctx, 'weight', layer.weight) : constant('unit_scale', 1);
  const shift = layer.bias ? initializer(ctx, 'bias', layer.bias) : constant('zero_shift', 0);
  const inputs = [scale, shift, initializer(ctx, 'running_mean', layer.runningMean), initializer(ctx, 'running_var', layer.runningVar)];
  return single('BatchNormalization', ctx, layer, inputs, [floatAttr('epsilon', layer.eps)]);
};

// Before opset 13 Softmax flattened the dims from axis on into one; it matches convkit's
// per-axis softmax only on the last axis, so another axis is moved last and back.
const softmax: Emitter<Softmax> = (layer, ctx) => {
  const rank = ctx.inputShape.length + 1;
  const axis = normalizeAxis('Softmax', 'axis', layer.axis, [1, ...ctx.inputShape]);
  if (ctx.opset >= 13 || axis === rank - 1) return single('Softmax', ctx, layer, [], [intAttr('axis', axis)]);
  const name = base(ctx, layer);
  const perm = [...Array(rank).keys()];
  [perm[axis], perm[rank - 1]] = [perm[rank - 1], perm[axis]];
  const moved = ctx.graph.addNode('Transpose', `${name}.move_axis_last`, [ctx.input], `${name}.axis_last`, [intsAttr('perm', perm)]);
  const y = ctx.graph.addNode('Softmax', `${name}.softmax`, [moved], `${name}.softmax_output`, [intAttr('axis', rank - 1)]);
  return ctx.graph.addNode('Transpose', name, [y], `${name}.output`, [intsAttr('perm', perm)]);
};

// Keyed by the exact class: a subclass may override forward(), so it is not assumed to match.
const emitters = new Map<Function, Emitter<never>>([
  [Conv2d, conv2d],
  [Conv1d, conv1d],
  [Linear, linear],
  [MaxPool2d, maxPool2d],
  [AvgPool2d, avgPool2d],
  [GlobalAvgPool2d, (layer: GlobalAvgPool2d, ctx) => single('GlobalAveragePool', ctx, layer)],
  [Flatten, flatten],
  [Dropout, (_layer: Dropout, ctx) => ctx.input], // the identity in eval mode: no node
  [BatchNorm2d, batchNorm2d],
  [ReLU, (layer: ReLU, ctx) => single('Relu', ctx, layer)],
  [LeakyReLU, (layer: LeakyReLU, ctx) => single('LeakyRelu', ctx, layer, [], [floatAttr('alpha', layer.negativeSlope)])],
  [Tanh, (layer: Tanh, ctx) => single('Tanh', ctx, layer)],
  [Sigmoid, (layer: Sigmoid, ctx) => single('Sigmoid', ctx, layer)],
  [Softmax, softmax],
] as Array<[Function, Emitter<never>]>);

/** The layer types exportOnnx writes, by name (for error messages). */
export const EXPORTABLE_TYPES = [...emitters.keys()].map((type) => type.name);

/** The emitter for exactly this layer's class, or null. */
export function emitterFor(layer: Module): Emitter<Module> | null {
  return (emitters.get(layer.constructor) as Emitter<Module> | undefined) ?? null;
}
