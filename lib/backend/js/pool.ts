// Max and average 2-D pooling, NCHW, with the output size already resolved in the geometry
// (ceil mode only changes oh/ow, and a window that runs past the padding is clipped here).
import type { PoolGeometry } from '../types.js';
import type { Floats } from './floats.js';

/**
 * Max over each window, skipping padded positions. argmax (if given) gets iy*w + ix within the
 * (n, c) plane. As in PyTorch, a value takes over only if strictly greater or NaN, so the first
 * maximum wins ties and NaN propagates.
 */
/**
 * The taps [k0, k1) of a window starting at `start` (maybe in the padding), k taps `dilation`
 * apart, that land inside [0, size): a kernel far larger than the input costs only what lies inside.
 */
function tapsInside(start: number, dilation: number, k: number, size: number): [number, number] {
  const k0 = start >= 0 ? 0 : Math.ceil(-start / dilation);
  const k1 = start >= size ? 0 : Math.min(k, Math.floor((size - 1 - start) / dilation) + 1);
  return [k0, Math.max(k0, k1)];
}

export function maxPool2dForward(g: PoolGeometry, x: Floats, y: Floats, argmax: Int32Array | null): void {
  const { h, w, kh, kw, oh, ow } = g;
  const planes = g.n * g.c;
  for (let p = 0; p < planes; p++) {
    const xPlane = p * h * w, yPlane = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity, bestIndex = -1;   // -1 only for a window entirely in padding
        const y0 = oy * g.strideH - g.padTop, x0 = ox * g.strideW - g.padLeft;
        const [ky0, ky1] = tapsInside(y0, g.dilationH, kh, h);
        const [kx0, kx1] = tapsInside(x0, g.dilationW, kw, w);
        for (let ky = ky0; ky < ky1; ky++) {
          const iy = y0 + ky * g.dilationH;
          for (let kx = kx0; kx < kx1; kx++) {
            const ix = x0 + kx * g.dilationW;
            const v = x[xPlane + iy * w + ix];
            if (v > best || Number.isNaN(v)) { best = v; bestIndex = iy * w + ix; }
          }
        }
        y[yPlane + oy * ow + ox] = best;
        if (argmax !== null) argmax[yPlane + oy * ow + ox] = bestIndex;
      }
    }
  }
}

/** Routes each output gradient to the input that won its window. Overwrites dx. */
export function maxPool2dBackward(g: PoolGeometry, dy: Floats, argmax: Int32Array, dx: Floats): void {
  const planeIn = g.h * g.w, planeOut = g.oh * g.ow;
  const planes = g.n * g.c;
  dx.fill(0, 0, planes * planeIn);
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < planeOut; i++) {
      const winner = argmax[p * planeOut + i];
      if (winner >= 0) dx[p * planeIn + winner] += dy[p * planeOut + i];  // windows may overlap
    }
  }
}

/** One window of average pooling: its clipped extent and what its sum is divided by. */
interface AvgWindow { y0: number; y1: number; x0: number; x1: number; divisor: number }

/**
 * PyTorch's rule: the window may extend into the padding (and counts it when countIncludePad)
 * but never past it; then it is clipped to the input for the sum.
 */
function avgWindow(g: PoolGeometry, oy: number, ox: number, out: AvgWindow): AvgWindow {
  let y0 = oy * g.strideH - g.padTop, x0 = ox * g.strideW - g.padLeft;
  let y1 = Math.min(y0 + g.kh, g.h + g.padBottom), x1 = Math.min(x0 + g.kw, g.w + g.padRight);
  const paddedSize = (y1 - y0) * (x1 - x0);
  y0 = Math.max(y0, 0); x0 = Math.max(x0, 0);
  y1 = Math.min(y1, g.h); x1 = Math.min(x1, g.w);
  out.y0 = y0; out.y1 = y1; out.x0 = x0; out.x1 = x1;
  out.divisor = g.countIncludePad ? paddedSize : (y1 - y0) * (x1 - x0);
  return out;
}

export function avgPool2dForward(g: PoolGeometry, x: Floats, y: Floats): void {
  const { h, w, oh, ow } = g;
  const planes = g.n * g.c;
  const win: AvgWindow = { y0: 0, y1: 0, x0: 0, x1: 0, divisor: 1 };
  for (let p = 0; p < planes; p++) {
    const xPlane = p * h * w, yPlane = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        avgWindow(g, oy, ox, win);
        // A window with nothing of the input in it averages to 0 (PyTorch does the same).
        if (win.y0 >= win.y1 || win.x0 >= win.x1) { y[yPlane + oy * ow + ox] = 0; continue; }
        let sum = 0;
        for (let iy = win.y0; iy < win.y1; iy++) {
          for (let ix = win.x0; ix < win.x1; ix++) sum += x[xPlane + iy * w + ix];
        }
        y[yPlane + oy * ow + ox] = sum / win.divisor;
      }
    }
  }
}

/** Spreads each output gradient evenly (by the same divisor) over its clipped window. Overwrites dx. */
export function avgPool2dBackward(g: PoolGeometry, dy: Floats, dx: Floats): void {
  const { h, w, oh, ow } = g;
  const planes = g.n * g.c;
  const win: AvgWindow = { y0: 0, y1: 0, x0: 0, x1: 0, divisor: 1 };
  dx.fill(0, 0, planes * h * w);
  for (let p = 0; p < planes; p++) {
    const xPlane = p * h * w, yPlane = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        avgWindow(g, oy, ox, win);
        const share = dy[yPlane + oy * ow + ox] / win.divisor;
        for (let iy = win.y0; iy < win.y1; iy++) {
          for (let ix = win.x0; ix < win.x1; ix++) dx[xPlane + iy * w + ix] += share;
        }
      }
    }
  }
}
