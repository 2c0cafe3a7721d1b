// Add, Sub, Mul and Div with numpy broadcasting. On tensors they are convkit's ops (a one-element
// constant operand is passed as a number); on integers computed at import (shape arithmetic, as
// in `c // groups`) they work on the symbolic sizes.
import { add, div, mul, sub } from '../../ops/binary.js';
import type { Tensor } from '../../tensor.js';
import type { NodeContext } from './context.js';
import { dimOp, sameDim, type Dim, type DimOp } from './dims.js';
import { shapeOf, type Handler } from './handler.js';
import type { ConstValue, IntsValue, TensorValue } from './values.js';

type Binary = (a: Tensor | number, b: Tensor | number) => Tensor;

/** Numpy broadcasting of shapes known in part; a size known only at run time stays unknown. */
export function broadcastDims(ctx: NodeContext, a: readonly Dim[], b: readonly Dim[]): Array<Dim | null> {
  const n = Math.max(a.length, b.length);
  const out: Array<Dim | null> = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da === 1 || sameDim(da, db)) out.push(db);
    else if (db === 1) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number') ctx.fail(`the input shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`, 'range');
    else out.push(typeof da === 'number' ? da : typeof db === 'number' ? db : null);
  }
  return out;
}

/** Elementwise integer arithmetic with broadcasting of a one-element operand (all shape code needs). */
function intsBinary(ctx: NodeContext, op: DimOp['op'], a: IntsValue, b: IntsValue): IntsValue {
  const n = Math.max(a.elems.length, b.elems.length);
  if (a.elems.length !== n && a.elems.length !== 1 || b.elems.length !== n && b.elems.length !== 1) {
    ctx.fail(`integer operands of ${a.elems.length} and ${b.elems.length} elements do not broadcast`, 'range');
  }
  const pick = (v: IntsValue, i: number) => v.elems[v.elems.length === 1 ? 0 : i];
  const elems = Array.from({ length: n }, (_, i) => dimOp(op, pick(a, i), pick(b, i)));
  return { kind: 'ints', dims: a.elems.length >= b.elems.length ? a.dims : b.dims, elems };
}

/** A one-element constant as a number, so the op needs no broadcast buffer. */
function scalar(v: TensorValue | ConstValue): number | null {
  return v.kind === 'const' && v.values.length === 1 && v.dims.length <= 1 ? v.values[0] : null;
}

function binary(fn: Binary, symbol: DimOp['op']): Handler {
  return (ctx: NodeContext) => {
    ctx.attrs.onlyKnown([]);
    const [a0, b0] = [ctx.input(0), ctx.input(1)];
    if (a0.kind === 'ints' && b0.kind === 'ints') return [intsBinary(ctx, symbol, a0, b0)];
    const a = ctx.floatInput(0), b = ctx.floatInput(1);
    const shape = broadcastDims(ctx, shapeOf(a), shapeOf(b));
    const sa = scalar(a), sb = scalar(b);
    // A scalar keeps the other operand's rank only if that has at least one dim: [] op [1] is [1].
    if (sb !== null && a.kind === 'tensor' && shapeOf(a).length >= shapeOf(b).length) return [ctx.step1([a], shape, ([t]) => fn(t, sb))];
    if (sa !== null && b.kind === 'tensor' && shapeOf(b).length >= shapeOf(a).length) return [ctx.step1([b], shape, ([t]) => fn(sa, t))];
    return [ctx.step1([a, b], shape, ([x, y]) => fn(x, y), { joinsBranches: fn === add && a.kind === 'tensor' && b.kind === 'tensor' })];
  };
}

export const addOp = binary(add, '+');
export const subOp = binary(sub, '-');
export const mulOp = binary(mul, '*');
export const divOp = binary(div, '/');
