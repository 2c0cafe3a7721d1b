// gemm (ONNX/BLAS style: alpha * op(a) op(b) + beta * c, c broadcast to [M, N]) and linear
// (x w^T + b, PyTorch's layout), with gradients as GEMMs on the untransposed buffers.
import type { AnyBackend, Storage } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, emptyResult, checkBoolean, checkFiniteNumber, checkOptionalTensor, checkOptions, checkTensorRank } from '../check.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { gemmArgs, runGemm } from './gemm-kernel.js';

/**
 * gemm()'s options: transposed operands and the scales of `alpha * op(A) op(B) + beta * C`, as
 * BLAS's SGEMM.
 */
export interface GemmOptions {
  alpha?: number;
  /** Scale of c; defaults to 1 when c is given. */
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

export interface GemmPlan {
  op: string;
  a: Tensor; b: Tensor; c: Tensor | null;
  m: number; n: number; k: number;
  alpha: number; beta: number; transA: boolean; transB: boolean;
  out: Tensor;
  track: boolean;
  backend: AnyBackend;
}

/** c's shape right-aligned against [m, n]: [rows, cols] of c, each 1 or the full size. */
function broadcastDims(op: string, c: Tensor, m: number, n: number): [number, number] {
  const rows = c.ndim === 2 ? c.shape[0] : 1;
  const cols = c.ndim >= 1 ? c.shape[c.ndim - 1] : 1;
  if (c.ndim > 2 || (rows !== 1 && rows !== m) || (cols !== 1 && cols !== n)) {
    throw new RangeError(`${op}: c of shape ${formatShape(c.shape)} does not broadcast to the result [${m},${n}] (expected [], [1], [${n}], [1,${n}], [${m},1] or [${m},${n}])`);
  }
  return [rows, cols];
}

/**
 * Shared by gemm and linear; the operands are already checked to be 2-D. Errors name them as
 * the caller's signature does: a, b, c for gemm, x, weight, bias for linear.
 */
export function planGemm(op: string, a: Tensor, b: Tensor, c: Tensor | null, options: unknown, signature: 'gemm' | 'linear' = 'gemm'): GemmPlan {
  const opts = checkOptions<GemmOptions>(op, options, ['alpha', 'beta', 'transA', 'transB']);
  const alpha = checkFiniteNumber(op, 'alpha', opts.alpha ?? 1);
  const beta = checkFiniteNumber(op, 'beta', opts.beta ?? 1);
  const transA = checkBoolean(op, 'transA', opts.transA, false);
  const transB = checkBoolean(op, 'transB', opts.transB, false);
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== kb) {
    throw new RangeError(`${op}: inner dimensions differ: op(a) is ${m}x${k} but op(b) is ${kb}x${n} (a ${formatShape(a.shape)}, b ${formatShape(b.shape)}, transA ${transA}, transB ${transB})`);
  }
  if (c) broadcastDims(op, c, m, n);
  const backend = backendFor(op, signature === 'gemm' ? { a, b, c } : { x: a, weight: b, bias: c });
  const out = emptyResult(op, [m, n], backend);
  return { op, a, b, c, m, n, k, alpha, beta, transA, transB, out, track: needsGrad(a, b, c), backend };
}

export function launchArgs(p: GemmPlan) {
  let beta = 0;
  if (p.c && p.beta !== 0) {
    const [rows, cols] = broadcastDims(p.op, p.c, p.m, p.n);
    p.backend.broadcast2d(p.c.storage, rows, cols, p.m, p.n, p.out.storage);
    beta = p.beta;
  }
  return gemmArgs(p.transA, p.transB, p.m, p.n, p.k, p.a.storage, p.b.storage, p.out.storage, p.alpha, beta);
}

export function finishGemm(p: GemmPlan): Tensor {
  const { a, b, c, m, n, k, alpha, beta, transA, transB, backend } = p;
  return p.track ? record(p.out, p.op, [a, b, c], (dy) => {
    let da: Storage | null = null;
    let db: Storage | null = null;
    if (a.requiresGrad) {
      // d op(a) = alpha dY op(b)^T (m x k); da is its transpose when transA.
      da = backend.empty(a.size);
      if (!transA) runGemm(backend, gemmArgs(false, !transB, m, k, n, dy, b.storage, da, alpha));
      else runGemm(backend, gemmArgs(transB, true, k, m, n, b.storage, dy, da, alpha));
    }
    if (b.requiresGrad) {
      // d op(b) = alpha op(a)^T dY (k x n); db is its transpose when transB.
      db = backend.empty(b.size);
      if (!transB) runGemm(backend, gemmArgs(!transA, false, k, n, m, a.storage, dy, db, alpha));
      else runGemm(backend, gemmArgs(true, transA, n, k, m, dy, a.storage, db, alpha));
    }
    let dc: Storage | null = null;
    if (c?.requiresGrad) {
      // beta * dY summed over the dims c was broadcast along.
      const [rows, cols] = broadcastDims(p.op, c, m, n);
      dc = backend.empty(c.size);
      backend.reduce2d(dy, rows, cols, m, n, beta, dc);
    }
    return [da, db, dc];
  }) : p.out;
}

export function checkGemmOperands(op: string, a: unknown, b: unknown, c: unknown): [Tensor, Tensor, Tensor | null] {
  return [checkTensorRank(op, 'a', a, 2), checkTensorRank(op, 'b', b, 2), checkOptionalTensor(op, 'c', c)];
}

/** alpha * op(a) op(b) + beta * c for 2-D a, b; c broadcasts to the [M, N] result. */
export function gemm(a: Tensor, b: Tensor, c?: Tensor | null, options?: GemmOptions): Tensor {
  const p = planGemm('gemm', ...checkGemmOperands('gemm', a, b, c), options);
  runGemm(p.backend, launchArgs(p));
  return finishGemm(p);
}

/** x w^T + b for x [N, in], w [out, in], b [out]: PyTorch's nn.Linear. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const op = 'linear';
  const input = checkTensorRank(op, 'x', x, 2, '[batch, in]');
  const weight = checkTensorRank(op, 'weight', w, 2, '[out, in]');
  const bias = checkOptionalTensor(op, 'bias', b);
  const shapes = () => `(x ${formatShape(input.shape)}, weight ${formatShape(weight.shape)}${bias ? `, bias ${formatShape(bias.shape)}` : ''})`; // built only for an error
  if (input.shape[1] !== weight.shape[1]) {
    throw new RangeError(`${op}: x has ${input.shape[1]} features but weight expects ${weight.shape[1]} ${shapes()}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new RangeError(`${op}: bias must have shape [${weight.shape[0]}] ${shapes()}`);
  }
  const p = planGemm(op, input, weight, bias, { transB: true }, 'linear');
  runGemm(p.backend, launchArgs(p));
  return finishGemm(p);
}
