// matmul with numpy semantics: 2-D, batched (>= 3-D) with broadcast batch dims, and 1-D
// operands promoted to a row (a) or a column (b) and squeezed out of the result. A batch is
// a list of GEMMs on views of the flat buffers; when b is shared by every batch, the whole
// batch folds into one GEMM of height batch*M.
import type { AnyBackend, Storage } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, checkTensor, emptyResult } from '../check.js';
import { broadcastShapes, formatShape, numel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { gemmArgs, runGemm } from './gemm-kernel.js';

/** One GEMM: y[yOff] (m x n) = a[aOff] (m x k) b[bOff] (k x n). */
interface MatmulStep {
  aOff: number; bOff: number; yOff: number;
}

export interface MatmulPlan {
  a: Tensor; b: Tensor;
  m: number; n: number; k: number;
  steps: MatmulStep[];
  out: Tensor;
  track: boolean;
  backend: AnyBackend;
}

/** Offsets of the matrix at each batch index of batchShape, for an operand with its own (broadcast) batch dims. */
function batchOffsets(batchShape: number[], own: readonly number[], matrixSize: number): number[] {
  const count = numel(batchShape);
  const offsets = new Array<number>(count);
  const lead = batchShape.length - own.length;
  // Element strides of the operand's batch dims; 0 along broadcast dims.
  const strides = new Array<number>(batchShape.length).fill(0);
  let stride = matrixSize;
  for (let i = own.length - 1; i >= 0; i--) {
    strides[lead + i] = own[i] === 1 ? 0 : stride;
    stride *= own[i];
  }
  const index = new Array<number>(batchShape.length).fill(0);
  let offset = 0;
  for (let t = 0; t < count; t++) {
    offsets[t] = offset;
    for (let d = batchShape.length - 1; d >= 0; d--) {
      index[d]++;
      offset += strides[d];
      if (index[d] < batchShape[d]) break;
      offset -= strides[d] * index[d];
      index[d] = 0;
    }
  }
  return offsets;
}

export function planMatmul(op: string, aArg: unknown, bArg: unknown): MatmulPlan {
  const a = checkTensor(op, 'a', aArg);
  const b = checkTensor(op, 'b', bArg);
  const shapes = () => `(a ${formatShape(a.shape)}, b ${formatShape(b.shape)})`; // built only for an error
  if (a.ndim === 0 || b.ndim === 0) throw new RangeError(`${op}: operands must be at least 1-d ${shapes()}`);
  const aMat = a.ndim === 1 ? [1, a.shape[0]] : a.shape.slice(-2);
  const bMat = b.ndim === 1 ? [b.shape[0], 1] : b.shape.slice(-2);
  const [m, k] = aMat;
  const [kb, n] = bMat;
  if (k !== kb) {
    throw new RangeError(`${op}: inner dimensions differ: a has ${k} columns but b has ${kb} rows ${shapes()}`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  if (!batch) {
    throw new RangeError(`${op}: batch dimensions ${formatShape(aBatch)} and ${formatShape(bBatch)} do not broadcast ${shapes()}`);
  }
  const outShape = [...batch];
  if (a.ndim > 1) outShape.push(m);
  if (b.ndim > 1) outShape.push(n);
  const backend = backendFor(op, { a, b });
  const out = emptyResult(op, outShape, backend);
  const batchCount = numel(batch);
  let steps: MatmulStep[];
  let rows = m;
  if (numel(bBatch) === 1 && numel(aBatch) === batchCount) {
    // b is the same matrix for every batch and a's batches are contiguous: one tall GEMM.
    rows = batchCount * m;
    steps = [{ aOff: 0, bOff: 0, yOff: 0 }];
  } else {
    const aOffs = batchOffsets(batch, aBatch, m * k);
    const bOffs = batchOffsets(batch, bBatch, k * n);
    steps = [];
    for (let t = 0; t < batchCount; t++) steps.push({ aOff: aOffs[t], bOff: bOffs[t], yOff: t * m * n });
  }
  return { a, b, m: rows, n, k, steps, out, track: needsGrad(a, b), backend };
}

export function stepArgs(p: MatmulPlan, s: MatmulStep) {
  const { m, n, k, backend: be } = p;
  return gemmArgs(false, false, m, n, k,
    be.view(p.a.storage, s.aOff, m * k),
    be.view(p.b.storage, s.bOff, k * n),
    be.view(p.out.storage, s.yOff, m * n));
}

export function finishMatmul(p: MatmulPlan): Tensor {
  const { a, b, m, n, k, steps, backend } = p;
  return p.track ? record(p.out, 'matmul', [a, b], (dy) => {
    // beta = 1 sums the gradients of a matrix shared by several batches (broadcasting).
    const da = a.requiresGrad ? backend.alloc(a.size) : null;
    const db = b.requiresGrad ? backend.alloc(b.size) : null;
    const view = (x: Storage, offset: number, length: number) => backend.view(x, offset, length);
    for (const s of steps) {
      const gy = view(dy, s.yOff, m * n);
      if (da) runGemm(backend, gemmArgs(false, true, m, k, n, gy, view(b.storage, s.bOff, k * n), view(da, s.aOff, m * k), 1, 1));
      if (db) runGemm(backend, gemmArgs(true, false, k, n, m, view(a.storage, s.aOff, m * k), gy, view(db, s.bOff, k * n), 1, 1));
    }
    return [da, db];
  }) : p.out;
}

/** numpy.matmul: 2-D, batched with broadcast batch dims, and 1-D operands. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const p = planMatmul('matmul', a, b);
  for (const s of p.steps) runGemm(p.backend, stepArgs(p, s));
  return finishMatmul(p);
}
