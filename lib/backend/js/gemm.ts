// General matrix multiply, row-major: C[m,n] = alpha * op(A) * op(B) + beta * C.
import type { Floats } from './floats.js';

export interface GemmProblem {
  transA: boolean; transB: boolean;
  m: number; n: number; k: number;
  alpha: number; beta: number;
  a: Floats;   // m x k, or k x m when transA
  b: Floats;   // k x n, or n x k when transB
  c: Floats;   // m x n
}

export function gemm({ transA, transB, m, n, k, alpha, beta, a, b, c }: GemmProblem): void {
  // Element strides of op(A) and op(B): a transposed operand walks its rows instead of its columns.
  const aRowStride = transA ? 1 : k, aColStride = transA ? m : 1;  // op(A)[i,p] = a[i*aRow + p*aCol]
  const bRowStride = transB ? 1 : n, bColStride = transB ? k : 1;  // op(B)[p,j] = b[p*bRow + j*bCol]
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        sum += a[i * aRowStride + p * aColStride] * b[p * bRowStride + j * bColStride];
      }
      const out = i * n + j;
      // beta == 0 means "overwrite": C may hold garbage or NaN, so it must not be read.
      c[out] = beta === 0 ? alpha * sum : alpha * sum + beta * c[out];
    }
  }
}
