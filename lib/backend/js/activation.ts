// Element-wise activations and softmax / log-softmax along one axis. Backward passes overwrite dx.
import type { Floats } from './floats.js';

/** max(x, 0), except that NaN stays NaN (PyTorch's relu propagates it). */
export function relu(x: Floats, y: Floats): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v > 0 || Number.isNaN(v) ? v : 0;
  }
}

/** Passes dy where x > 0. Written as PyTorch's threshold_backward (x <= 0 ? 0 : dy), which also passes dy where x is NaN. */
export function reluBackward(x: Floats, dy: Floats, dx: Floats): void {
  for (let i = 0; i < x.length; i++) dx[i] = x[i] <= 0 ? 0 : dy[i];
}

export function leakyRelu(x: Floats, y: Floats, slope: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v > 0 ? v : slope * v;
  }
}

export function leakyReluBackward(x: Floats, dy: Floats, dx: Floats, slope: number): void {
  for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
}

/** 1 / (1 + e^-x), evaluated so that exp never overflows: e^x / (1 + e^x) for negative x. */
export function sigmoid(x: Floats, y: Floats): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v >= 0) {
      y[i] = 1 / (1 + Math.exp(-v));
    } else {
      const e = Math.exp(v);   // also the NaN path: exp(NaN) is NaN
      y[i] = e / (1 + e);
    }
  }
}

/** From the forward output y: dx = dy * y * (1 - y). */
export function sigmoidBackward(y: Floats, dy: Floats, dx: Floats): void {
  for (let i = 0; i < y.length; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
}

export function tanh(x: Floats, y: Floats): void {
  for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]);
}

/** From the forward output y: dx = dy * (1 - y^2). */
export function tanhBackward(y: Floats, dy: Floats, dx: Floats): void {
  for (let i = 0; i < y.length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
}

// Softmax family: the tensor is viewed as [outer, dim, inner]; element (o, d, i) sits at
// (o * dim + d) * inner + i, so consecutive entries along dim are `inner` apart.

/** The largest entry of one softmax line; NaN if any entry is NaN, so NaN spreads to the whole line. */
function lineMax(x: Floats, start: number, dim: number, inner: number): number {
  let max = -Infinity;
  for (let d = 0; d < dim; d++) {
    const v = x[start + d * inner];
    if (v > max || Number.isNaN(v)) max = v;
  }
  return max;
}

/** sum over the line of e^(x - max): at least 1, so its log is safe. */
function lineSumExp(x: Floats, start: number, dim: number, inner: number, max: number): number {
  let sum = 0;
  for (let d = 0; d < dim; d++) sum += Math.exp(x[start + d * inner] - max);
  return sum;
}

export function softmax(x: Floats, y: Floats, outer: number, dim: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = o * dim * inner + i;
      const max = lineMax(x, start, dim, inner);
      const sum = lineSumExp(x, start, dim, inner, max);
      for (let d = 0; d < dim; d++) {
        const at = start + d * inner;
        y[at] = Math.exp(x[at] - max) / sum;
      }
    }
  }
}

/** dx = y * (dy - sum_dim(dy * y)). */
export function softmaxBackward(y: Floats, dy: Floats, dx: Floats, outer: number, dim: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = o * dim * inner + i;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += dy[start + d * inner] * y[start + d * inner];
      for (let d = 0; d < dim; d++) {
        const at = start + d * inner;
        dx[at] = y[at] * (dy[at] - dot);
      }
    }
  }
}

/** y = x - max - log(sum e^(x - max)). */
export function logSoftmax(x: Floats, y: Floats, outer: number, dim: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = o * dim * inner + i;
      const max = lineMax(x, start, dim, inner);
      const logSum = Math.log(lineSumExp(x, start, dim, inner, max));
      for (let d = 0; d < dim; d++) {
        const at = start + d * inner;
        y[at] = x[at] - max - logSum;
      }
    }
  }
}

/** From the forward output y (log-probabilities): dx = dy - exp(y) * sum_dim(dy). */
export function logSoftmaxBackward(y: Floats, dy: Floats, dx: Floats, outer: number, dim: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = o * dim * inner + i;
      let sum = 0;
      for (let d = 0; d < dim; d++) sum += dy[start + d * inner];
      for (let d = 0; d < dim; d++) {
        const at = start + d * inner;
        dx[at] = dy[at] - Math.exp(y[at]) * sum;
      }
    }
  }
}
