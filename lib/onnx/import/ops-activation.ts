// Relu, LeakyRelu, Sigmoid, Tanh, Clip, Softmax and LogSoftmax. The ones convkit has layers for
// become those layers; Clip is clamp (ReLU6 is Clip(0, 6)), or a ReLU when it has no upper bound.
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from '../../nn/activation.js';
import { logSoftmax, softmax } from '../../ops/activation.js';
import { reshape } from '../../ops/shape.js';
import { clamp } from '../../ops/binary.js';
import type { Module } from '../../nn/module.js';
import type { NodeContext } from './context.js';
import { numel } from '../../shape.js';
import { resolveAxis, shapeOf, type Handler } from './handler.js';

function asLayer(make: (ctx: NodeContext) => Module, attributes: readonly string[] = []): Handler {
  return (ctx: NodeContext) => {
    ctx.attrs.onlyKnown(attributes);
    const x = ctx.floatInput(0);
    return [ctx.layer(make(ctx), x, shapeOf(x))];
  };
}

export const relu = asLayer(() => new ReLU());
export const sigmoid = asLayer(() => new Sigmoid());
export const tanh = asLayer(() => new Tanh());
export const leakyRelu = asLayer((ctx) => new LeakyReLU(ctx.attrs.float('alpha', 0.01)), ['alpha']);

/** One bound of Clip: an attribute before opset 11, an optional constant input from 11 on. */
function bound(ctx: NodeContext, index: number, attribute: 'min' | 'max'): number | undefined {
  if (ctx.opset < 11) return ctx.attrs.float(attribute);
  const v = ctx.inputs[index];
  if (!v) return undefined;
  const values = v.kind === 'const' ? [...v.values] : v.kind === 'ints' ? ctx.numbers(index, attribute) ?? [] : null;
  if (!values || values.length !== 1) ctx.fail(`the ${attribute} bound (input ${index}) must be a one-element constant`);
  return values[0];
}

export const clip: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(ctx.opset < 11 ? ['min', 'max'] : []);
  const x = ctx.floatInput(0);
  const lo = bound(ctx, 1, 'min');
  const hi = bound(ctx, 2, 'max');
  if (lo === 0 && hi === undefined) return [ctx.layer(new ReLU(), x, shapeOf(x))];
  if (lo === undefined && hi === undefined) return [x];
  return [ctx.step1([x], shapeOf(x), ([t]) => clamp(t, lo, hi))];
};

/**
 * Softmax and LogSoftmax. From opset 13 they work along one axis (default -1), as convkit's;
 * before, they flattened the input into [before axis, from axis on] (default axis 1), which is
 * the same only when axis is the last: otherwise the input is viewed as 2-d around them.
 */
function softmaxLike(kind: 'softmax' | 'logSoftmax'): Handler {
  return (ctx: NodeContext) => {
    ctx.attrs.onlyKnown(['axis']);
    const x = ctx.floatInput(0);
    const shape = shapeOf(x);
    const axis = resolveAxis(ctx, ctx.attrs.int('axis', ctx.opset >= 13 ? -1 : 1), Math.max(shape.length, 1));
    const fn = kind === 'softmax' ? softmax : logSoftmax;
    if (ctx.opset >= 13 || axis === shape.length - 1) {
      if (kind === 'softmax') return [ctx.layer(new Softmax(axis), x, shape)];
      return [ctx.step1([x], shape, ([t]) => fn(t, axis))];
    }
    return [ctx.step1([x], shape, ([t]) => reshape(fn(reshape(t, [numel(t.shape.slice(0, axis)), -1]), 1), t.shape))];
  };
}

export const softmaxOp = softmaxLike('softmax');
export const logSoftmaxOp = softmaxLike('logSoftmax');
