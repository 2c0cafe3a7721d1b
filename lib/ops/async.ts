// Async variants of the heavy ops: the same validation, tape and results as the sync ops,
// with the kernels run off the event loop by the backend's *Async kernels. Their arrays are
// marked in flight meanwhile, so that disposing a tensor cannot recycle memory a kernel is using.
import type { Tensor } from '../tensor.js';
import type { Pair, Conv2dOptions, MaxPool2dOptions } from '../geometry.js';
import { finishConv2d, planConv2d } from './conv.js';
import { checkGemmOperands, finishGemm, launchArgs, planGemm, type GemmOptions } from './gemm.js';
import { runGemmAsync } from './gemm-kernel.js';
import { finishMatmul, planMatmul, stepArgs } from './matmul.js';
import { finishMaxPool2d, planPool } from './pool.js';
import { whileInFlight } from '../backend/host-memory.js';

export async function conv2dAsync(x: Tensor, w: Tensor, b?: Tensor | null, options?: Conv2dOptions): Promise<Tensor> {
  const p = planConv2d('conv2dAsync', x, w, b, options);
  if (p.out.size > 0) {
    await whileInFlight([p.x.storage, p.w.storage, p.b?.storage, p.out.storage],
      () => p.backend.conv2dForwardAsync(p.g, p.x.storage, p.w.storage, p.b?.storage ?? null, p.out.storage));
  }
  return finishConv2d(p);
}

export async function maxPool2dAsync(x: Tensor, kernel: Pair, options?: MaxPool2dOptions): Promise<Tensor> {
  const p = planPool('maxPool2dAsync', 'max', x, kernel, options);
  if (p.out.size > 0) {
    await whileInFlight([p.x.storage, p.out.storage, p.argmax], () => p.backend.maxPool2dForwardAsync(p.g, p.x.storage, p.out.storage, p.argmax));
  }
  return finishMaxPool2d(p);
}

export async function gemmAsync(a: Tensor, b: Tensor, c?: Tensor | null, options?: GemmOptions): Promise<Tensor> {
  const op = 'gemmAsync';
  const p = planGemm(op, ...checkGemmOperands(op, a, b, c), options);
  const args = launchArgs(p);
  await whileInFlight([args.a, args.b, args.c], () => runGemmAsync(p.backend, args));
  return finishGemm(p);
}

/** A batch awaits one GEMM at a time (the native GEMM already uses every core). */
export async function matmulAsync(a: Tensor, b: Tensor): Promise<Tensor> {
  const p = planMatmul('matmulAsync', a, b);
  for (const s of p.steps) {
    const args = stepArgs(p, s);
    await whileInFlight([args.a, args.b, args.c], () => runGemmAsync(p.backend, args));
  }
  return finishMatmul(p);
}
