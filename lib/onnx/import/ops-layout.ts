// Transpose, Concat, Split and Slice: convkit's layout ops on tensors; Concat and Slice also on
// integers computed at import (the pieces of a shape).
import { concat, permute, slice, split } from '../../ops/layout.js';
import type { NodeContext } from './context.js';
import { dimOp, evalDim, type Dim } from './dims.js';
import { resolveAxis, shapeOf, type Handler } from './handler.js';
import type { IntsValue } from './values.js';

export const transpose: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['perm']);
  const x = ctx.floatInput(0);
  const input = shapeOf(x);
  const perm = ctx.attrs.ints('perm') ?? input.map((_, i) => input.length - 1 - i);
  if (perm.length !== input.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    ctx.fail(`attribute 'perm' [${perm.join(', ')}] is not a permutation of the ${input.length} axes`, 'range');
  }
  return [ctx.step1([x], perm.map((p) => input[p]), ([t]) => permute(t, perm))];
};

export const concatOp: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['axis']);
  const values = ctx.inputs.map((_, i) => ctx.input(i));
  if (values.length === 0) ctx.fail('at least one input is required', 'range');
  const first = shapeOf(values[0]);
  const axis = resolveAxis(ctx, ctx.attrs.int('axis') ?? ctx.fail('attribute \'axis\' is required', 'range'), Math.max(first.length, 1));
  if (values.every((v) => v.kind === 'ints')) {
    if (first.length !== 1) ctx.fail('Concat of integer values is supported for 1-d values only');
    const elems = (values as IntsValue[]).flatMap((v) => v.elems);
    return [{ kind: 'ints', dims: [elems.length], elems }];
  }
  const inputs = values.map((_, i) => ctx.floatInput(i));
  const shapes = inputs.map(shapeOf);
  for (const [i, s] of shapes.entries()) if (s.length !== first.length) ctx.fail(`input ${i} is ${s.length}-d but input 0 is ${first.length}-d`, 'range');
  const out = first.map((d, i) => (i === axis ? shapes.reduce<Dim>((sum, s) => dimOp('+', sum, s[axis]), 0) : d));
  return [ctx.step1(inputs, out, (ts) => concat(ts, axis))];
};

export const splitOp: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(ctx.opset < 13 ? ['axis', 'split'] : ['axis', 'num_outputs']);
  const x = ctx.floatInput(0);
  const input = shapeOf(x);
  const axis = resolveAxis(ctx, ctx.attrs.int('axis', 0), input.length);
  const count = ctx.outputsUsed.length;
  let sizes = ctx.opset < 13 ? ctx.attrs.ints('split') : ctx.numbers(1, 'split');
  if (!sizes) {
    const size = input[axis];
    if (typeof size !== 'number') ctx.fail('an even Split needs the size of its axis known at import');
    if (size % count !== 0) ctx.fail(`an axis of ${size} does not split evenly into ${count} outputs`, 'range');
    sizes = new Array<number>(count).fill(size / count);
  }
  if (sizes.length !== count) ctx.fail(`${sizes.length} split sizes for ${count} outputs`, 'range');
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.some((s) => s < 0) || (typeof input[axis] === 'number' && total !== input[axis])) {
    ctx.fail(`split sizes [${sizes.join(', ')}] do not add up to the axis size ${String(input[axis])}`, 'range');
  }
  const parts = sizes;
  return ctx.step([x], parts.map((s) => input.map((d, i) => (i === axis ? s : d))), ([t]) => split(t, parts, axis));
};

/** The length of ONNX's slice start:end:step of an axis of size n (indices clamped as ONNX does). */
function sliceLength(n: number, start: number, end: number, step: number): number {
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  const [s, e] = step > 0 ? [norm(start, 0, n), norm(end, 0, n)] : [norm(start, 0, n - 1), norm(end, -1, n - 1)];
  return Math.max(0, Math.ceil((e - s) / step));
}

export const sliceOp: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(ctx.opset < 10 ? ['starts', 'ends', 'axes'] : []);
  const data = ctx.input(0);
  const input = shapeOf(data);
  const bounds = (index: number, attr: string): readonly Dim[] | undefined =>
    ctx.opset < 10 ? ctx.attrs.ints(attr) : ctx.ints(index, attr)?.elems;
  const starts = bounds(1, 'starts') ?? ctx.fail('starts are required', 'range');
  const ends = bounds(2, 'ends') ?? ctx.fail('ends are required', 'range');
  const axes = (ctx.opset < 10 ? ctx.attrs.ints('axes') : ctx.numbers(3, 'axes')) ?? starts.map((_, i) => i);
  const steps = (ctx.opset < 10 ? undefined : ctx.numbers(4, 'steps')) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    ctx.fail('starts, ends, axes and steps must have the same length', 'range');
  }
  const resolved = axes.map((a) => resolveAxis(ctx, a, input.length, 'axes entry'));
  if (steps.some((s) => s === 0)) ctx.fail('a step of 0 is not allowed', 'range');
  const out: Array<Dim | null> = [...input];
  resolved.forEach((axis, i) => {
    const n = input[axis], s = starts[i], e = ends[i];
    out[axis] = typeof n === 'number' && typeof s === 'number' && typeof e === 'number' ? sliceLength(n, s, e, steps[i]) : null;
  });
  if (data.kind === 'ints') {
    const n = out[0];
    if (input.length !== 1 || typeof n !== 'number' || typeof starts[0] !== 'number') ctx.fail('Slice of integer values needs 1-d values and bounds known at import');
    const first = sliceLength(input[0] as number, 0, starts[0], 1); // the clamped start
    const start = steps[0] > 0 ? first : Math.min(first, (input[0] as number) - 1);
    return [{ kind: 'ints', dims: [n], elems: Array.from({ length: n }, (_, k) => data.elems[start + k * steps[0]]) }];
  }
  const readsShapes = [...starts, ...ends].some((d) => typeof d !== 'number');
  return [ctx.step1([ctx.floatInput(0)], out, ([t], shapes) => resolved.reduce(
    (y, axis, i) => slice(y, axis, evalDim(starts[i], shapes), evalDim(ends[i], shapes), steps[i]), t), { readsShapes })];
};
