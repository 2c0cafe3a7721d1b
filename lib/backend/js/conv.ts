// Direct 2-D convolution (PyTorch's cross-correlation), NCHW input, OIHW weight, with
// asymmetric padding, stride, dilation and groups. No im2col: every output is a plain sum
// over its receptive field, so this stays the obviously-correct reference.
import type { ConvGeometry } from '../types.js';
import type { Floats } from './floats.js';

export function conv2dForward(g: ConvGeometry, x: Floats, w: Floats, bias: Floats | null, y: Floats): void {
  const { n, c, h, w: width, o, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  const inPerGroup = c / g.groups, outPerGroup = o / g.groups;
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const firstIn = Math.floor(oc / outPerGroup) * inPerGroup;
      for (let oy = 0; oy < oh; oy++) {
        // Input row of tap ky is top + ky*dilation; taps that land in the padding add zero, so skip them.
        const top = oy * strideH - padTop;
        const kyBegin = firstInside(top, dilationH), kyEnd = endInside(top, dilationH, h, kh);
        for (let ox = 0; ox < ow; ox++) {
          const left = ox * strideW - padLeft;
          const kxBegin = firstInside(left, dilationW), kxEnd = endInside(left, dilationW, width, kw);
          let sum = bias === null ? 0 : bias[oc];
          for (let ic = 0; ic < inPerGroup; ic++) {
            const xPlane = (b * c + firstIn + ic) * h * width;
            const wPlane = (oc * inPerGroup + ic) * kh * kw;
            for (let ky = kyBegin; ky < kyEnd; ky++) {
              const xRow = xPlane + (top + ky * dilationH) * width + left;
              const wRow = wPlane + ky * kw;
              for (let kx = kxBegin; kx < kxEnd; kx++) sum += x[xRow + kx * dilationW] * w[wRow + kx];
            }
          }
          y[((b * o + oc) * oh + oy) * ow + ox] = sum;
        }
      }
    }
  }
}

/** Overwrites each of dx, dw, db that is not null. */
export function conv2dBackward(g: ConvGeometry, x: Floats, w: Floats, dy: Floats,
  dx: Floats | null, dw: Floats | null, db: Floats | null): void {
  if (dx !== null) conv2dBackwardInput(g, w, dy, dx);
  if (dw !== null) conv2dBackwardWeight(g, x, dy, dw);
  if (db !== null) conv2dBackwardBias(g, dy, db);
}

/**
 * dx[b, ic, iy, ix] = sum of dy[b, oc, oy, ox] * w[oc, ic', ky, kx] over every output that
 * read this input. Written as a gather (each dx computed once, summed in float64) rather than
 * a scatter, so no buffer has to be zeroed and nothing accumulates in float32.
 */
export function conv2dBackwardInput(g: ConvGeometry, w: Floats, dy: Floats, dx: Floats): void {
  const { n, c, h, w: width, o, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  const inPerGroup = c / g.groups, outPerGroup = o / g.groups;
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const group = Math.floor(ci / inPerGroup), ic = ci - group * inPerGroup;
      for (let iy = 0; iy < h; iy++) {
        // Tap ky read this row for output oy = (iy + padTop - ky*dilation) / stride, when that
        // is a whole number in [0, oh). The range bounds the division; the loop checks wholeness.
        const rowOffset = iy + padTop;
        const kyBegin = tapsFrom(rowOffset, dilationH, (oh - 1) * strideH);
        const kyEnd = tapsUntil(rowOffset, dilationH, kh);
        for (let ix = 0; ix < width; ix++) {
          const colOffset = ix + padLeft;
          const kxBegin = tapsFrom(colOffset, dilationW, (ow - 1) * strideW);
          const kxEnd = tapsUntil(colOffset, dilationW, kw);
          let sum = 0;
          for (let oc = group * outPerGroup; oc < (group + 1) * outPerGroup; oc++) {
            const dyPlane = (b * o + oc) * oh * ow;
            const wPlane = (oc * inPerGroup + ic) * kh * kw;
            for (let ky = kyBegin; ky < kyEnd; ky++) {
              const oyStrided = rowOffset - ky * dilationH;
              if (oyStrided % strideH !== 0) continue;
              const dyRow = dyPlane + (oyStrided / strideH) * ow;
              const wRow = wPlane + ky * kw;
              for (let kx = kxBegin; kx < kxEnd; kx++) {
                const oxStrided = colOffset - kx * dilationW;
                if (oxStrided % strideW !== 0) continue;
                sum += dy[dyRow + oxStrided / strideW] * w[wRow + kx];
              }
            }
          }
          dx[((b * c + ci) * h + iy) * width + ix] = sum;
        }
      }
    }
  }
}

/** dw[oc, ic, ky, kx] = sum over the batch and output positions of dy * the input under that tap. */
export function conv2dBackwardWeight(g: ConvGeometry, x: Floats, dy: Floats, dw: Floats): void {
  const { n, c, h, w: width, o, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  const inPerGroup = c / g.groups, outPerGroup = o / g.groups;
  for (let oc = 0; oc < o; oc++) {
    const firstIn = Math.floor(oc / outPerGroup) * inPerGroup;
    for (let ic = 0; ic < inPerGroup; ic++) {
      for (let ky = 0; ky < kh; ky++) {
        // Tap ky reads input row top + oy*stride; only the outputs whose row is inside the input count.
        const top = ky * dilationH - padTop;
        const oyBegin = firstInside(top, strideH), oyEnd = endInside(top, strideH, h, oh);
        for (let kx = 0; kx < kw; kx++) {
          const left = kx * dilationW - padLeft;
          const oxBegin = firstInside(left, strideW), oxEnd = endInside(left, strideW, width, ow);
          let sum = 0;
          for (let b = 0; b < n; b++) {
            const xPlane = (b * c + firstIn + ic) * h * width;
            const dyPlane = (b * o + oc) * oh * ow;
            for (let oy = oyBegin; oy < oyEnd; oy++) {
              const xRow = xPlane + (top + oy * strideH) * width + left;
              const dyRow = dyPlane + oy * ow;
              for (let ox = oxBegin; ox < oxEnd; ox++) sum += dy[dyRow + ox] * x[xRow + ox * strideW];
            }
          }
          dw[((oc * inPerGroup + ic) * kh + ky) * kw + kx] = sum;
        }
      }
    }
  }
}

/** db[oc] = sum of dy over the batch and the output plane. */
export function conv2dBackwardBias(g: ConvGeometry, dy: Floats, db: Floats): void {
  const { n, o, oh, ow } = g;
  const planeSize = oh * ow;
  for (let oc = 0; oc < o; oc++) {
    let sum = 0;
    for (let b = 0; b < n; b++) {
      const dyPlane = (b * o + oc) * planeSize;
      for (let i = 0; i < planeSize; i++) sum += dy[dyPlane + i];
    }
    db[oc] = sum;
  }
}

// Index ranges that stay inside the input. A position is start + t*step for t = 0, 1, ...; these
// give the t for which it lies in [0, limit), so the loops need no per-element bounds checks.

/** The first t >= 0 with start + t*step >= 0. */
function firstInside(start: number, step: number): number {
  return start >= 0 ? 0 : Math.ceil(-start / step);
}

/** One past the last t < count with start + t*step < limit (at least 0, so an empty range stays empty). */
function endInside(start: number, step: number, limit: number, count: number): number {
  return Math.max(0, Math.min(count, Math.ceil((limit - start) / step)));
}

// For the input gradient a tap k maps input offset p (position + padding) to the strided output
// position p - k*dilation, which must lie in [0, lastStrided]; these give that range of k.

/** The first k >= 0 with p - k*dilation <= lastStrided. */
function tapsFrom(p: number, dilation: number, lastStrided: number): number {
  return p <= lastStrided ? 0 : Math.ceil((p - lastStrided) / dilation);
}

/** One past the last k < count with p - k*dilation >= 0. */
function tapsUntil(p: number, dilation: number, count: number): number {
  return Math.min(count, Math.floor(p / dilation) + 1);
}
