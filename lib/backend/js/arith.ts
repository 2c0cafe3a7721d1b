// Broadcasting arithmetic, sums over axes and clamp: plain strided loops, the reference for
// the native and CUDA kernels. Bounds and scales are rounded to float32 first, as the native
// kernels receive them, so that both give the same bits.
import type { BinaryOpCode, BroadcastGeometry, ReduceGeometry } from '../types.js';
import type { Floats } from './floats.js';

function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** y = a op b over g's output, walking both operands' strides with one odometer. */
export function binary(op: BinaryOpCode, g: BroadcastGeometry, a: Floats, b: Floats, y: Floats): void {
  const { shape, aStrides, bStrides } = g;
  const rank = shape.length;
  const total = size(shape);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < total; i++) {
    const u = a[ia];
    const v = b[ib];
    y[i] = op === 0 ? u + v : op === 1 ? u - v : op === 2 ? u * v : u / v;
    for (let d = rank - 1; d >= 0; d--) {
      ia += aStrides[d];
      ib += bStrides[d];
      if (++idx[d] < shape[d]) break;
      ia -= shape[d] * aStrides[d];
      ib -= shape[d] * bStrides[d];
      idx[d] = 0;
    }
  }
}

/** y = float(sum) * beta over g's reduced dims, every sum in double and in x's order. */
export function sumAxes(g: ReduceGeometry, x: Floats, beta: number, y: Floats): void {
  const { shape, reduced } = g;
  const rank = shape.length;
  const outStrides = new Array<number>(rank);
  let outSize = 1;
  for (let d = rank - 1; d >= 0; d--) {
    outStrides[d] = reduced[d] ? 0 : outSize;
    if (!reduced[d]) outSize *= shape[d];
  }
  const acc = new Float64Array(outSize);
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  const total = size(shape);
  for (let i = 0; i < total; i++) {
    acc[o] += x[i];
    for (let d = rank - 1; d >= 0; d--) {
      o += outStrides[d];
      if (++idx[d] < shape[d]) break;
      o -= shape[d] * outStrides[d];
      idx[d] = 0;
    }
  }
  const scale = Math.fround(beta);
  for (let i = 0; i < outSize; i++) y[i] = Math.fround(acc[i]) * scale;
}

/** y = min(max(x, lo), hi); NaN fails both comparisons and is kept. */
export function clamp(x: Floats, lo: number, hi: number, y: Floats): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** dx = dy where lo <= x <= hi, else 0. */
export function clampBackward(x: Floats, dy: Floats, lo: number, hi: number, dx: Floats): void {
  for (let i = 0; i < x.length; i++) dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0;
}
