// Gemm and MatMul. A Gemm that is x W^T + b with constant W and b (what torch.onnx.export writes
// for nn.Linear) becomes an nn.Linear; any other Gemm is convkit's gemm with its alpha, beta
// and transposes, and MatMul is matmul (numpy semantics).
import { Linear } from '../../nn/linear.js';
import { withDeferredInit } from '../../nn/deferred.js';
import { gemm } from '../../ops/gemm.js';
import { matmul } from '../../ops/matmul.js';
import { constView, type NodeContext } from './context.js';
import type { Dim } from './dims.js';
import { broadcastDims } from './ops-elementwise.js';
import { shapeOf, type Handler } from './handler.js';
import type { ConstValue } from './values.js';

/** A constant 2-d matrix transposed. */
function transposed(ctx: NodeContext, m: ConstValue): ConstValue {
  const [rows, cols] = m.dims;
  const out = new Float32Array(m.values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m.values[r * cols + c];
  return ctx.constant([cols, rows], out, `${m.name}_t`);
}

export const gemmOp: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['alpha', 'beta', 'transA', 'transB', 'broadcast']);
  const a = ctx.floatInput(0), b = ctx.floatInput(1);
  const c = ctx.inputs[2] ? ctx.floatInput(2) : null;
  const alpha = ctx.attrs.float('alpha', 1), beta = ctx.attrs.float('beta', 1);
  const transA = ctx.attrs.int('transA', 0) !== 0, transB = ctx.attrs.int('transB', 0) !== 0;
  const sa = shapeOf(a), sb = shapeOf(b);
  if (sa.length !== 2 || sb.length !== 2) ctx.fail(`A and B must be 2-d, got [${sa.join(', ')}] and [${sb.join(', ')}]`, 'range');
  const [m, k] = transA ? [sa[1], sa[0]] : sa;
  const [kb, n] = transB ? [sb[1], sb[0]] : sb;
  if (typeof k === 'number' && typeof kb === 'number' && k !== kb) ctx.fail(`op(A) is ?x${k} but op(B) is ${kb}x${String(n)}`, 'range');
  const out: Dim[] = [m, n];
  const biasOk = !c || (c.kind === 'const' && beta === 1 && c.values.length === n && (c.dims.length === 1 || (c.dims.length === 2 && c.dims[0] === 1)));
  if (b.kind === 'const' && !transA && alpha === 1 && biasOk && typeof n === 'number' && typeof k === 'number') {
    const weight = transB ? b : transposed(ctx, b);
    const layer = withDeferredInit(() => new Linear(k, n, { bias: c !== null }));
    layer.loadStateDict(c ? { weight: constView(weight), bias: constView({ ...(c as ConstValue), dims: [n] }) } : { weight: constView(weight) });
    return [ctx.layer(layer, a, out)];
  }
  const options = { alpha, beta, transA, transB };
  if (!c) return [ctx.step1([a, b], out, ([x, y]) => gemm(x, y, null, options))];
  return [ctx.step1([a, b, c], out, ([x, y, z]) => gemm(x, y, z, options))];
};

export const matMul: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown([]);
  const a = ctx.floatInput(0), b = ctx.floatInput(1);
  const sa = shapeOf(a), sb = shapeOf(b);
  if (sa.length === 0 || sb.length === 0) ctx.fail('MatMul operands must be at least 1-d', 'range');
  const am = sa.length === 1 ? [1, sa[0]] : sa.slice(-2), bm = sb.length === 1 ? [sb[0], 1] : sb.slice(-2);
  if (typeof am[1] === 'number' && typeof bm[0] === 'number' && am[1] !== bm[0]) {
    ctx.fail(`inner sizes differ: [${sa.join(', ')}] x [${sb.join(', ')}]`, 'range');
  }
  const batch = broadcastDims(ctx, sa.slice(0, -2), sb.slice(0, -2));
  const out = [...batch, ...(sa.length === 1 ? [] : [am[0]]), ...(sb.length === 1 ? [] : [bm[1]])];
  return [ctx.step1([a, b], out, ([x, y]) => matmul(x, y))];
};
