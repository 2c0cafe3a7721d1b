// The layout kernels: one strided copy (permute, slice, concat and split, forward and
// backward) and argmax along one axis.
import type { StridedCopy } from '../types.js';
import type { Floats } from './floats.js';

/** dst[dstOffset + i . dstStrides] = src[srcOffset + i . srcStrides] over every index i of plan.shape. */
export function stridedCopy(plan: StridedCopy, src: Floats, dst: Floats): void {
  const { shape, srcStrides, dstStrides } = plan;
  const rank = shape.length;
  if (shape.some((d) => d === 0)) return;
  if (rank === 0) {
    dst[plan.dstOffset] = src[plan.srcOffset];
    return;
  }
  // An odometer over the outer dims; the last dim is the inner loop.
  const last = rank - 1;
  const n = shape[last];
  const ss = srcStrides[last];
  const ds = dstStrides[last];
  const index = new Array<number>(rank).fill(0);
  let s = plan.srcOffset;
  let d = plan.dstOffset;
  for (;;) {
    for (let i = 0; i < n; i++) dst[d + i * ds] = src[s + i * ss];
    let k = last - 1;
    for (; k >= 0; k--) {
      s += srcStrides[k];
      d += dstStrides[k];
      if (++index[k] < shape[k]) break;
      s -= shape[k] * srcStrides[k];
      d -= shape[k] * dstStrides[k];
      index[k] = 0;
    }
    if (k < 0) return;
  }
}

/** x as [outer, dim, inner]: out[o * inner + i] = the first index of the largest value along dim, NaN largest. */
export function argmax(x: Floats, outer: number, dim: number, inner: number, out: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      let best = x[base];
      let at = 0;
      for (let d = 1; d < dim && !Number.isNaN(best); d++) {
        const v = x[base + d * inner];
        if (v > best || Number.isNaN(v)) {
          best = v;
          at = d;
        }
      }
      out[o * inner + i] = at;
    }
  }
}
