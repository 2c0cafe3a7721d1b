// A node handler: reads its node through a NodeContext and returns one Value per output
// (entries for outputs nobody reads may be anything).
import type { NodeContext } from './context.js';
import type { Dim } from './dims.js';
import type { Value } from './values.js';

export type Handler = (ctx: NodeContext) => ReadonlyArray<Value | null>;

/** A value's shape as far as import knows it (an integer value's dims are always known). */
export function shapeOf(v: Value): readonly Dim[] {
  return v.kind === 'tensor' ? v.shape : v.dims;
}

/** axis in [-rank, rank) as a non-negative axis, or the node's RangeError. */
export function resolveAxis(ctx: NodeContext, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) ctx.fail(`${what} ${axis} is out of range for a ${rank}-d input`, 'range');
  return axis < 0 ? axis + rank : axis;
}
