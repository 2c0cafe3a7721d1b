// The one place ops call the backend's GEMM. Empty problems never reach a kernel: with
// m or n zero there is nothing to write, and with k zero C = beta * C.
import type { AnyBackend, GemmArgs, Storage } from '../backend/types.js';

function emptyProduct(backend: AnyBackend, args: GemmArgs<Storage>): boolean {
  if (args.m === 0 || args.n === 0) return true;
  if (args.k !== 0) return false;
  const c = backend.view(args.c, 0, args.m * args.n);
  if (args.beta === 0) backend.fill(c, 0);
  else backend.scale(c, args.beta);
  return true;
}

export function runGemm(backend: AnyBackend, args: GemmArgs<Storage>): void {
  if (!emptyProduct(backend, args)) backend.gemm(args);
}

export async function runGemmAsync(backend: AnyBackend, args: GemmArgs<Storage>): Promise<void> {
  if (!emptyProduct(backend, args)) await backend.gemmAsync(args);
}

/** c (m x n) += or = alpha * op(a) op(b); a, b, c may be views into larger buffers. */
export function gemmArgs(transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Storage, b: Storage, c: Storage, alpha = 1, beta = 0): GemmArgs<Storage> {
  return { transA, transB, m, n, k, alpha, beta, a, b, c };
}
