// Batch normalisation per channel of x viewed as [n, c, hw]. Element (i, ch, j) sits at
// (i * c + ch) * hw + j. JS numbers are doubles, so the sums here are accumulated in double.
import type { Floats } from './floats.js';

/** Mean and biased variance of each channel (two passes: the variance is sum((x - mean)^2)). */
export function batchNorm2dStats(x: Floats, n: number, c: number, hw: number, mean: Floats, variance: Floats): void {
  const count = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * hw;
      for (let j = 0; j < hw; j++) sum += x[start + j];
    }
    const m = sum / count;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * hw;
      for (let j = 0; j < hw; j++) {
        const d = x[start + j] - m;
        squares += d * d;
      }
    }
    mean[ch] = m;
    variance[ch] = squares / count;
  }
}

export function batchNorm2dForward(x: Floats, n: number, c: number, hw: number, mean: Floats, invStd: Floats,
  weight: Floats | null, bias: Floats | null, y: Floats): void {
  for (let ch = 0; ch < c; ch++) {
    const scale = invStd[ch] * (weight ? weight[ch] : 1);
    const shift = bias ? bias[ch] : 0;
    const m = mean[ch];
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * hw;
      for (let j = 0; j < hw; j++) y[start + j] = (x[start + j] - m) * scale + shift;
    }
  }
}

/**
 * Training: dx = weight * invStd * (dy - mean(dy) - xhat * mean(dy * xhat)), the gradient through
 * the batch mean and variance. Eval: dx = dy * weight * invStd.
 */
export function batchNorm2dBackward(x: Floats, dy: Floats, n: number, c: number, hw: number, mean: Floats,
  invStd: Floats, weight: Floats | null, training: boolean,
  dx: Floats | null, dweight: Floats | null, dbias: Floats | null): void {
  const count = n * hw;
  for (let ch = 0; ch < c; ch++) {
    const m = mean[ch], is = invStd[ch];
    let sumDy = 0, sumDyXhat = 0;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * hw;
      for (let j = 0; j < hw; j++) {
        sumDy += dy[start + j];
        sumDyXhat += dy[start + j] * (x[start + j] - m) * is;
      }
    }
    if (dweight) dweight[ch] = sumDyXhat;
    if (dbias) dbias[ch] = sumDy;
    if (!dx) continue;
    const scale = is * (weight ? weight[ch] : 1);
    const meanDy = training ? sumDy / count : 0;
    const meanDyXhat = training ? sumDyXhat / count : 0;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * hw;
      for (let j = 0; j < hw; j++) {
        const xhat = (x[start + j] - m) * is;
        dx[start + j] = scale * (dy[start + j] - meanDy - xhat * meanDyXhat);
      }
    }
  }
}
