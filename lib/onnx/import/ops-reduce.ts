// ReduceMean and ReduceSum over axes, with keepdims; the axes are an attribute before opset 13
// (ReduceSum) or 18 (ReduceMean), an input after.
import type { NodeContext } from './context.js';
import { mean, sum } from '../../ops/reduce.js';
import type { Tensor } from '../../tensor.js';
import { resolveAxis, shapeOf, type Handler } from './handler.js';

function reduce(fn: (x: Tensor, axes?: number[], keepDims?: boolean) => Tensor, axesInputFrom: number): Handler {
  return (ctx: NodeContext) => {
    const asInput = ctx.opset >= axesInputFrom;
    ctx.attrs.onlyKnown(asInput ? ['keepdims', 'noop_with_empty_axes'] : ['axes', 'keepdims']);
    const x = ctx.floatInput(0);
    const input = shapeOf(x);
    const keep = ctx.attrs.int('keepdims', 1) !== 0;
    const given = asInput ? ctx.numbers(1, 'axes') : ctx.attrs.ints('axes');
    if ((!given || given.length === 0) && asInput && ctx.attrs.int('noop_with_empty_axes', 0) !== 0) return [x];
    const axes = given && given.length > 0 ? given.map((a) => resolveAxis(ctx, a, input.length, 'axes entry')) : input.map((_, i) => i);
    if (new Set(axes).size !== axes.length) ctx.fail(`axes [${(given ?? []).join(', ')}] repeat an axis`, 'range');
    const out = keep ? input.map((d, i) => (axes.includes(i) ? 1 : d)) : input.filter((_, i) => !axes.includes(i));
    return [ctx.step1([x], out, ([t]) => fn(t, axes, keep))];
  };
}

export const reduceMean = reduce(mean, 18);
export const reduceSum = reduce(sum, 13);
