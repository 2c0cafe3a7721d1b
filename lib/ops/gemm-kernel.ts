// The one place ops call the backend's GEMM. Empty problems never reach a kernel: with
// m or n zero there is nothing to write, and with k zero C = beta * C.
import type { Backend, GemmArgs } from '../backend/types.js';

function emptyProduct(args: GemmArgs): boolean {
  if (args.m === 0 || args.n === 0) return true;
  if (args.k !== 0) return false;
  const c = args.c.subarray(0, args.m * args.n);
  if (args.beta === 0) c.fill(0);
  else for (let i = 0; i < c.length; i++) c[i] *= args.beta;
  return true;
}

export function runGemm(backend: Backend, args: GemmArgs): void {
  if (!emptyProduct(args)) backend.gemm(args);
}

export async function runGemmAsync(backend: Backend, args: GemmArgs): Promise<void> {
  if (!emptyProduct(args)) await backend.gemmAsync(args);
}

/** c (m x n) += or = alpha * op(a) op(b); a, b, c may be views into larger buffers. */
export function gemmArgs(transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, alpha = 1, beta = 0): GemmArgs {
  return { transA, transB, m, n, k, alpha, beta, a, b, c };
}
