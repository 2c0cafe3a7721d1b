// Async variants of the heavy ops: the same validation, tape and results as the sync ops,
// with the kernels run off the event loop by the backend's *Async kernels.
import type { Tensor } from '../tensor.js';
import type { Pair, Conv2dOptions, MaxPool2dOptions } from '../geometry.js';
import { finishConv2d, planConv2d } from './conv.js';
import { checkGemmOperands, finishGemm, launchArgs, planGemm, type GemmOptions } from './gemm.js';
import { runGemmAsync } from './gemm-kernel.js';
import { finishMatmul, planMatmul, stepArgs } from './matmul.js';
import { finishMaxPool2d, planPool } from './pool.js';

/**
 * conv2d() off the event loop: the kernel runs on the libuv thread pool and the promise resolves
 * with the output (no autograd record).
 */
export async function conv2dAsync(x: Tensor, w: Tensor, b?: Tensor | null, options?: Conv2dOptions): Promise<Tensor> {
  const p = planConv2d('conv2dAsync', x, w, b, options);
  if (p.out.size > 0) await p.backend.conv2dForwardAsync(p.g, p.x.storage, p.w.storage, p.b?.storage ?? null, p.out.storage);
  return finishConv2d(p);
}

/**
 * maxPool2d() off the event loop: the kernel runs on the libuv thread pool and the promise
 * resolves with the output (no autograd record).
 */
export async function maxPool2dAsync(x: Tensor, kernel: Pair, options?: MaxPool2dOptions): Promise<Tensor> {
  const p = planPool('maxPool2dAsync', 'max', x, kernel, options);
  if (p.out.size > 0) await p.backend.maxPool2dForwardAsync(p.g, p.x.storage, p.out.storage, p.argmax);
  return finishMaxPool2d(p);
}

/**
 * gemm() off the event loop: the kernel runs on the libuv thread pool and the promise resolves
 * with the output (no autograd record).
 */
export async function gemmAsync(a: Tensor, b: Tensor, c?: Tensor | null, options?: GemmOptions): Promise<Tensor> {
  const op = 'gemmAsync';
  const p = planGemm(op, ...checkGemmOperands(op, a, b, c), options);
  await runGemmAsync(p.backend, launchArgs(p));
  return finishGemm(p);
}

/** A batch awaits one GEMM at a time (the native GEMM already uses every core). */
export async function matmulAsync(a: Tensor, b: Tensor): Promise<Tensor> {
  const p = planMatmul('matmulAsync', a, b);
  for (const s of p.steps) await runGemmAsync(p.backend, stepArgs(p, s));
  return finishMatmul(p);
}
