// Shape, Gather, Cast, Constant, Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout.
// The integer side of these (what torch.onnx.export writes for x.view(x.size(0), -1)) runs at
// import on symbolic sizes; the tensor side is reshape (a view), or a convkit layer where one fits.
import { Flatten } from '../../nn/shape.js';
import { reshape } from '../../ops/shape.js';
import { slice, concat } from '../../ops/layout.js';
import { numel } from '../../shape.js';
import type { NodeContext } from './context.js';
import { dimProduct, evalDim, sameDim, type Dim } from './dims.js';
import { resolveAxis, shapeOf, type Handler } from './handler.js';
import { isIntegerType, dataTypeName, type HostTensor } from './tensors.js';
import type { IntsValue, Value } from './values.js';

function fromHost(ctx: NodeContext, t: HostTensor): Value {
  return t.kind === 'float' ? ctx.constant(t.dims, t.values) : { kind: 'ints', dims: t.dims, elems: t.values };
}

export const constant: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['value', 'value_float', 'value_floats', 'value_int', 'value_ints']);
  const names = ctx.attrs.names();
  if (names.length !== 1) ctx.fail(`exactly one value attribute is needed, got ${names.length ? names.join(', ') : 'none'}`, 'range');
  const t = ctx.attrs.tensor('value');
  if (t) return [fromHost(ctx, t)];
  const f = ctx.attrs.float('value_float');
  if (f !== undefined) return [ctx.constant([], Float32Array.of(f))];
  const fs = ctx.attrs.floats('value_floats');
  if (fs) return [ctx.constant([fs.length], Float32Array.from(fs))];
  const i = ctx.attrs.int('value_int');
  if (i !== undefined) return [{ kind: 'ints', dims: [], elems: [i] }];
  const is = ctx.attrs.ints('value_ints') as number[];
  return [{ kind: 'ints', dims: [is.length], elems: is }];
};

export const shape: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['start', 'end']);
  const dims = shapeOf(ctx.input(0));
  const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + dims.length : a, 0), dims.length);
  const start = clampAxis(ctx.attrs.int('start', 0));
  const end = clampAxis(ctx.attrs.int('end', dims.length));
  const elems = dims.slice(start, Math.max(start, end));
  return [{ kind: 'ints', dims: [elems.length], elems }];
};

/** Indices known at import, wrapped into [0, size). */
function indices(ctx: NodeContext, size: Dim): { dims: readonly number[]; values: number[] } {
  const v = ctx.input(1);
  if (v.kind !== 'ints') ctx.fail('the indices must be an integer constant');
  const values = ctx.numbers(1, 'indices') as number[];
  if (v.dims.length > 1) ctx.fail(`only 0-d or 1-d indices are supported, got [${v.dims.join(', ')}]`);
  return {
    dims: v.dims,
    values: values.map((i) => {
      if (typeof size !== 'number') {
        if (i < 0) ctx.fail(`negative index ${i} along an axis whose size is known only at run time`);
        return i;
      }
      if (i < -size || i >= size) ctx.fail(`index ${i} is out of range for an axis of ${size}`, 'range');
      return i < 0 ? i + size : i;
    }),
  };
}

export const gather: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['axis']);
  const data = ctx.input(0);
  const dims = shapeOf(data);
  const axis = resolveAxis(ctx, ctx.attrs.int('axis', 0), Math.max(dims.length, 1));
  const idx = indices(ctx, dims[axis]);
  if (data.kind === 'ints') {
    if (dims.length !== 1) ctx.fail('Gather on integer values is supported for 1-d data only');
    return [{ kind: 'ints', dims: idx.dims, elems: idx.values.map((i) => data.elems[i]) } satisfies IntsValue];
  }
  const x = ctx.floatInput(0);
  const outShape = [...dims.slice(0, axis), ...idx.dims, ...dims.slice(axis + 1)];
  return [ctx.step1([x], outShape, ([t]) => {
    const picked = idx.values.map((i) => slice(t, axis, i, i + 1));
    const joined = picked.length === 1 ? picked[0] : concat(picked, axis);
    return reshape(joined, [...t.shape.slice(0, axis), ...idx.dims, ...t.shape.slice(axis + 1)]);
  })];
};

export const cast: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['to', 'saturate']);
  const to = ctx.attrs.int('to');
  if (to === undefined) ctx.fail('attribute \'to\' is required', 'range');
  const x = ctx.input(0);
  if (to === 1 || to === 10 || to === 11) return [ctx.floatInput(0)]; // float32 compute: float16/64 run as float32
  if (!isIntegerType(to)) ctx.fail(`a cast to ${dataTypeName(to)} is not supported`);
  if (x.kind === 'ints') return [x];
  if (x.kind === 'const') return [{ kind: 'ints', dims: x.dims, elems: Array.from(x.values, Math.trunc) }];
  return ctx.fail(`a cast of a run-time tensor to ${dataTypeName(to)} is not supported (convkit computes in float32)`);
};

export const identity: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown([]);
  return [ctx.input(0)];
};

/** Dropout is the identity at inference; its mask output is not produced. */
export const dropout: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['ratio', 'seed', 'is_test']);
  ctx.onlyFirstOutput('mask');
  return [ctx.input(0)];
};

/** Reshape's target with 0 (copy the input's size, unless allowzero) resolved. */
function target(ctx: NodeContext, input: readonly Dim[], shapeInput: IntsValue, allowZero: boolean): Dim[] {
  if (shapeInput.dims.length !== 1) ctx.fail(`the shape must be 1-d, got [${shapeInput.dims.join(', ')}]`, 'range');
  const elems = shapeInput.elems.map((e, i) => {
    if (e === 0 && !allowZero) {
      if (i >= input.length) ctx.fail(`shape entry ${i} is 0 (copy) but the input has only ${input.length} dims`, 'range');
      return input[i];
    }
    if (typeof e === 'number' && e < -1) ctx.fail(`shape entry ${i} is ${e}`, 'range');
    return e;
  });
  if (elems.filter((e) => e === -1).length > 1) ctx.fail('the shape has more than one -1', 'range');
  return elems;
}

/**
 * The size a -1 stands for, where import can tell: sizes equal on both sides cancel (the batch
 * N in [N, 2, 58, 8, 8] -> [N, -1, 8, 8]), and what is left must be known.
 */
function inferredSize(input: readonly Dim[], others: readonly Dim[]): number | null {
  const left = [...input];
  const right: Dim[] = [];
  for (const d of others) {
    const match = left.findIndex((e) => sameDim(e, d));
    if (match >= 0) left.splice(match, 1);
    else right.push(d);
  }
  const total = dimProduct(left), rest = dimProduct(right);
  return typeof total === 'number' && typeof rest === 'number' && rest > 0 && total % rest === 0 ? total / rest : null;
}

export const reshapeOp: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['allowzero']);
  const data = ctx.input(0);
  const shapeInput = ctx.ints(1, 'shape') ?? ctx.fail('input 1 (shape) is required');
  const input = shapeOf(data);
  const dims = target(ctx, input, shapeInput, ctx.attrs.int('allowzero', 0) !== 0);
  if (data.kind === 'ints') {
    if (!dims.every((d) => typeof d === 'number')) ctx.fail('a reshape of integer values needs a shape known at import');
    const n = data.elems.length, known = numel((dims as number[]).filter((d) => d !== -1));
    return [{ kind: 'ints', dims: (dims as number[]).map((d) => (d === -1 ? n / known : d)), elems: data.elems }];
  }
  const x = ctx.floatInput(0);
  const inferred = dims.indexOf(-1);
  const out: Array<Dim | null> = dims.map((d, i) => (i !== inferred ? d : inferredSize(input, dims.filter((e) => e !== -1))));
  // [N, -1] (or [N, C*H*W]) over an input of batch N is what nn.Flatten does.
  if (input.length >= 2 && dims.length === 2 && sameDim(dims[0], input[0]) && (dims[1] === -1 || sameDim(dims[1], dimProduct(input.slice(1))))) {
    return [ctx.layer(new Flatten(1), x, [input[0], dimProduct(input.slice(1))])];
  }
  if (dims.every((d) => typeof d === 'number')) return [ctx.step1([x], out, ([t]) => reshape(t, dims as number[]))];
  return [ctx.step1([x], out, ([t], shapes) => reshape(t, dims.map((d) => (typeof d === 'number' ? d : evalDim(d, shapes)))), { readsShapes: true })];
};

export const flattenOp: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['axis']);
  const x = ctx.floatInput(0);
  const input = shapeOf(x);
  const axis = resolveAxis(ctx, ctx.attrs.int('axis', 1), input.length + 1);
  const out = [dimProduct(input.slice(0, axis)), dimProduct(input.slice(axis))];
  if (axis === 1 && input.length >= 2) return [ctx.layer(new Flatten(1), x, out)];
  return [ctx.step1([x], out, ([t]) => reshape(t, [numel(t.shape.slice(0, axis)), numel(t.shape.slice(axis))]))];
};

/** Squeeze's or Unsqueeze's axes: an attribute before opset 13, an input from 13 on. */
function axesOf(ctx: NodeContext): number[] | undefined {
  return ctx.opset < 13 ? ctx.attrs.ints('axes') : ctx.numbers(1, 'axes');
}

export const squeeze: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(ctx.opset < 13 ? ['axes'] : []);
  const data = ctx.input(0);
  const input = shapeOf(data);
  const given = axesOf(ctx);
  let axes: number[];
  if (given) {
    axes = given.map((a) => resolveAxis(ctx, a, input.length, 'axes entry'));
    for (const a of axes) if (typeof input[a] === 'number' && input[a] !== 1) ctx.fail(`axis ${a} has size ${input[a] as number}, not 1`, 'range');
  } else {
    if (!input.every((d) => typeof d === 'number')) ctx.fail('Squeeze without axes needs every size known at import');
    axes = input.flatMap((d, i) => (d === 1 ? [i] : []));
  }
  const out = input.filter((_, i) => !axes.includes(i));
  if (data.kind === 'ints') return [{ kind: 'ints', dims: out as number[], elems: data.elems }];
  return [ctx.step1([ctx.floatInput(0)], out, ([t]) => reshape(t, t.shape.filter((_, i) => !axes.includes(i))))];
};

export const unsqueeze: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(ctx.opset < 13 ? ['axes'] : []);
  const data = ctx.input(0);
  const input = shapeOf(data);
  const given = axesOf(ctx) ?? ctx.fail('axes are required');
  const rank = input.length + given.length;
  const axes = given.map((a) => resolveAxis(ctx, a, rank, 'axes entry'));
  if (new Set(axes).size !== axes.length) ctx.fail(`axes [${given.join(', ')}] repeat an axis`, 'range');
  const insert = (dims: readonly Dim[]): Dim[] => {
    const out: Dim[] = [];
    let next = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : dims[next++]);
    return out;
  };
  if (data.kind === 'ints') return [{ kind: 'ints', dims: insert(input) as number[], elems: data.elems }];
  return [ctx.step1([ctx.floatInput(0)], insert(input), ([t]) => reshape(t, insert(t.shape) as number[]))];
};
