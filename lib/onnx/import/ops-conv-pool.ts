// Conv, MaxPool, AveragePool and the global pools, as convkit's layers (their weights become
// ordinary parameters). Only 2-D windows (NCHW inputs) are supported.
import { convGeometry, poolGeometry, type AvgPool2dOptions, type MaxPool2dOptions, type Padding } from '../../geometry.js';
import { Conv2d } from '../../nn/conv.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../../nn/pool.js';
import { withDeferredInit } from '../../nn/deferred.js';
import { globalMaxPool2d } from '../../ops/pool.js';
import { constView, type NodeContext } from './context.js';
import type { Dim } from './dims.js';
import { shapeOf, type Handler } from './handler.js';

/** The NCHW input's shape; other ranks (1-d or 3-d windows) are not supported. */
function nchw(ctx: NodeContext, x: Parameters<typeof shapeOf>[0]): readonly Dim[] {
  const shape = shapeOf(x);
  if (shape.length !== 4) ctx.fail(`only 2-d windows on NCHW inputs are supported, got a ${shape.length}-d input`);
  return shape;
}

/** ONNX's auto_pad and pads ([top, left, bottom, right], as convkit's) as convkit padding. */
function padding(ctx: NodeContext, shape: readonly Dim[], kernel: number[], strides: number[], dilations: number[]): Padding {
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  const pads = ctx.attrs.ints('pads');
  if (autoPad !== 'NOTSET' && pads) ctx.fail(`attribute 'pads' cannot be given with auto_pad ${autoPad}`, 'range');
  if (autoPad === 'NOTSET') {
    const p = pads ?? [0, 0, 0, 0];
    if (p.length !== 4 || p.some((v) => v < 0)) ctx.fail(`attribute 'pads' must be 4 non-negative integers, got [${p.join(', ')}]`, 'range');
    return [p[0], p[1], p[2], p[3]];
  }
  if (autoPad === 'VALID') return 'valid';
  if (autoPad === 'SAME_UPPER') return 'same'; // convkit's 'same' is TensorFlow's: the odd pixel after
  if (autoPad !== 'SAME_LOWER') ctx.fail(`attribute 'auto_pad' ${autoPad} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`, 'range');
  // SAME_LOWER puts the odd pixel before; its pads depend on the input size unless stride is 1.
  const both = [0, 1].map((i) => {
    const size = shape[2 + i];
    if (typeof size !== 'number' && strides[i] !== 1) ctx.fail(`auto_pad SAME_LOWER with stride ${strides[i]} needs a spatial size known at import`);
    const out = typeof size === 'number' ? Math.ceil(size / strides[i]) : 0;
    const total = typeof size === 'number' ? Math.max(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - size) : dilations[i] * (kernel[i] - 1);
    return [Math.ceil(total / 2), Math.floor(total / 2)];
  });
  return [both[0][0], both[1][0], both[0][1], both[1][1]];
}

function pair(ctx: NodeContext, name: string, fallback: number): [number, number] {
  const v = ctx.attrs.ints(name) ?? [fallback, fallback];
  if (v.length !== 2 || v.some((x) => x < 1)) ctx.fail(`attribute '${name}' must be 2 positive integers, got [${v.join(', ')}]`, 'range');
  return [v[0], v[1]];
}

const spatialKnown = (shape: readonly Dim[]): shape is readonly number[] => shape.every((d, i) => i === 0 || typeof d === 'number');

export const conv: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
  const x = ctx.floatInput(0);
  const shape = nchw(ctx, x);
  const w = ctx.floatInput(1);
  const b = ctx.inputs[2] ? ctx.floatInput(2) : null;
  if (w.kind !== 'const' || (b && b.kind !== 'const')) ctx.fail('the weight and bias must be initializers or constants');
  if (w.dims.length !== 4) ctx.fail(`the weight must be 4-d [O, C/group, kH, kW], got [${w.dims.join(', ')}]`, 'range');
  const [o, cg, kh, kw] = w.dims;
  const kernel = ctx.attrs.ints('kernel_shape');
  if (kernel && (kernel.length !== 2 || kernel[0] !== kh || kernel[1] !== kw)) ctx.fail(`attribute 'kernel_shape' [${kernel.join(', ')}] does not match the weight [${w.dims.join(', ')}]`, 'range');
  const groups = ctx.attrs.int('group', 1);
  const stride = pair(ctx, 'strides', 1);
  const dilation = pair(ctx, 'dilations', 1);
  const c = shape[1];
  if (typeof c !== 'number') ctx.fail('the input\'s channel count must be known at import');
  if (groups < 1 || c !== cg * groups) ctx.fail(`the input has ${c} channels but the weight [${w.dims.join(', ')}] with group ${groups} takes ${cg * groups}`, 'range');
  if (b && (b.dims.length !== 1 || b.dims[0] !== o)) ctx.fail(`the bias must be [${o}], got [${b.dims.join(', ')}]`, 'range');
  const options = { stride, dilation, groups, padding: padding(ctx, shape, [kh, kw], stride, dilation) };
  const layer = withDeferredInit(() => new Conv2d(c, o, [kh, kw], { ...options, bias: b !== null }));
  layer.loadStateDict(b ? { weight: constView(w), bias: constView(b) } : { weight: constView(w) });
  let out: Array<Dim | null> = [shape[0], o, null, null];
  if (spatialKnown(shape)) {
    const g = convGeometry('Conv', [1, ...shape.slice(1)], w.dims, options); // a window that does not fit fails here
    out = [shape[0], o, g.oh, g.ow];
  }
  return [ctx.layer(layer, x, out)];
};

function pool(kind: 'max' | 'avg'): Handler {
  return (ctx: NodeContext) => {
    ctx.attrs.onlyKnown(kind === 'max'
      ? ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides']
      : ['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides']);
    ctx.onlyFirstOutput('Indices');
    const x = ctx.floatInput(0);
    const shape = nchw(ctx, x);
    const kernel = ctx.attrs.ints('kernel_shape');
    if (!kernel || kernel.length !== 2 || kernel.some((k) => k < 1)) ctx.fail('attribute \'kernel_shape\' must be 2 positive integers', 'range');
    const stride = pair(ctx, 'strides', 1);
    const dilation = kind === 'max' ? pair(ctx, 'dilations', 1) : [1, 1] as [number, number];
    const ceilMode = ctx.attrs.int('ceil_mode', 0) !== 0;
    const pads = padding(ctx, shape, kernel, stride, dilation);
    // ONNX allows pads of any size (PyTorch: half the kernel at most), so windows may lie partly
    // or wholly in the padding; anyPadding lets the layers take them.
    const layer = kind === 'max'
      ? new MaxPool2d([kernel[0], kernel[1]], { stride, padding: pads, dilation, ceilMode, anyPadding: true } satisfies MaxPool2dOptions)
      : new AvgPool2d([kernel[0], kernel[1]], { stride, padding: pads, ceilMode, countIncludePad: ctx.attrs.int('count_include_pad', 0) !== 0, anyPadding: true } satisfies AvgPool2dOptions);
    let out: Array<Dim | null> = [shape[0], shape[1], null, null];
    if (spatialKnown(shape)) {
      const g = poolGeometry(kind === 'max' ? 'MaxPool' : 'AveragePool', [1, ...shape.slice(1)], layer.kernelSize, layer.options, kind);
      out = [shape[0], shape[1], g.oh, g.ow];
    }
    return [ctx.layer(layer, x, out)];
  };
}

export const maxPool = pool('max');
export const averagePool = pool('avg');

export const globalAveragePool: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown([]);
  const x = ctx.floatInput(0);
  const shape = nchw(ctx, x);
  return [ctx.layer(new GlobalAvgPool2d(), x, [shape[0], shape[1], 1, 1])];
};

export const globalMaxPool: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown([]);
  const x = ctx.floatInput(0);
  const shape = nchw(ctx, x);
  return [ctx.step1([x], [shape[0], shape[1], 1, 1], ([t]) => globalMaxPool2d(t))];
};
