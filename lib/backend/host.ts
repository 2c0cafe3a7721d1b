// What the two host backends (js and cpu) share: storage is plain typed arrays, so the
// storage functions are identities and subarrays; the elementwise helpers are single loops;
// and their loss kernels return sums, which the adapters here turn into the contract's
// total[0]. Each host backend supplies only its own kernels (HostKernels).
import type { Backend, BackendName } from './types.js';
import { v8Arrays, type HostArrays } from './host-memory.js';

type Shared = 'name' | 'device' | 'alloc' | 'empty' | 'release' | 'fromHost' | 'toHost' | 'toHostAsync' | 'copyFromHost' | 'view'
  | 'int32FromHost' | 'allocInt32' | 'uint8FromHost' | 'int32ToHost' | 'copy' | 'fill' | 'axpy' | 'scale' | 'broadcast2d' | 'reduce2d'
  | 'batchNorm2dTrainStats' | 'batchNorm2dEvalStats'
  | 'crossEntropy' | 'crossEntropyBackward' | 'crossEntropySoft' | 'nllLoss' | 'mseLoss' | 'bceWithLogits';

/** The kernels a host backend brings: the contract's, with the losses returning their sums. */
export interface HostKernels extends Omit<Backend, Shared> {
  /** Returns the mean loss over the n rows. */
  crossEntropy(logits: Float32Array, labels: Int32Array, n: number, c: number, probs: Float32Array): number;
  crossEntropyBackward(probs: Float32Array, labels: Int32Array, n: number, c: number, scale: number, dlogits: Float32Array): void;
  crossEntropySoft(logits: Float32Array, target: Float32Array, n: number, c: number, probs: Float32Array, losses: Float32Array | null): number;
  nllLoss(logProbs: Float32Array, labels: Int32Array, n: number, c: number, losses: Float32Array | null): number;
  mseLoss(input: Float32Array, target: Float32Array, losses: Float32Array | null): number;
  bceWithLogits(logits: Float32Array, target: Float32Array, posWeight: Float32Array | null, losses: Float32Array | null): number;
  /** Each channel's mean and biased variance. */
  batchNorm2dStats(x: Float32Array, n: number, c: number, hw: number, mean: Float32Array, variance: Float32Array): void;
}

function writeTotal(total: Float32Array | null, sum: number, scale: number): void {
  if (total) total[0] = sum * scale;
}

/** A host backend over kernels k, with storage from arrays (the cpu backend's cache, or plain V8 arrays). */
export function hostBackend(name: BackendName, k: HostKernels, arrays: HostArrays = v8Arrays): Backend {
  const { batchNorm2dStats: _stats, ...contractKernels } = k; // a host-only step of batchNorm2dTrainStats
  return {
    ...contractKernels,
    name,
    device: 'cpu',

    alloc: (n) => arrays.float32(n, true),
    empty: (n) => arrays.float32(n, false),
    release: (x, detach) => arrays.release(x, detach),
    fromHost: (values) => values,
    toHost: (x) => x,
    toHostAsync: async (x) => x,
    copyFromHost: (values, x) => x.set(values),
    view: (x, offset, length) => x.subarray(offset, offset + length),
    int32FromHost: (values) => values,
    allocInt32: (n) => arrays.int32(n, false),
    uint8FromHost: (values) => values,
    int32ToHost: (x) => x,

    copy: (src, dst) => dst.set(src),
    fill: (x, value) => x.fill(value),
    axpy(alpha, x, y) {
      for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
    },
    scale(x, alpha) {
      for (let i = 0; i < x.length; i++) x[i] *= alpha;
    },
    broadcast2d(c, rows, cols, m, n, y) {
      for (let i = 0; i < m; i++) {
        const src = (rows === 1 ? 0 : i) * cols;
        const row = y.subarray(i * n, (i + 1) * n);
        if (cols === 1) row.fill(c[src]);
        else row.set(c.subarray(src, src + n));
      }
    },
    reduce2d(dy, rows, cols, m, n, beta, dc) {
      dc.fill(0);
      for (let i = 0; i < m; i++) {
        const ci = (rows === 1 ? 0 : i) * cols;
        for (let j = 0; j < n; j++) dc[ci + (cols === 1 ? 0 : j)] += dy[i * n + j];
      }
      if (beta !== 1) for (let i = 0; i < dc.length; i++) dc[i] *= beta;
    },

    crossEntropy(logits, labels, n, c, probs, total, scale) {
      writeTotal(total, k.crossEntropy(logits, labels, n, c, probs) * n, scale);
    },
    crossEntropyBackward(probs, labels, n, c, dy, scale, dlogits) {
      k.crossEntropyBackward(probs, labels, n, c, dy[0] * scale, dlogits);
    },
    crossEntropySoft(logits, target, n, c, probs, losses, total, scale) {
      writeTotal(total, k.crossEntropySoft(logits, target, n, c, probs, losses), scale);
    },
    nllLoss(logProbs, labels, n, c, losses, total, scale) {
      writeTotal(total, k.nllLoss(logProbs, labels, n, c, losses), scale);
    },
    mseLoss(input, target, losses, total, scale) {
      writeTotal(total, k.mseLoss(input, target, losses), scale);
    },
    bceWithLogits(logits, target, posWeight, losses, total, scale) {
      writeTotal(total, k.bceWithLogits(logits, target, posWeight, losses), scale);
    },

    batchNorm2dTrainStats(x, n, c, hw, eps, momentum, mean, invStd, runningMean, runningVar) {
      const variance = new Float32Array(c);
      k.batchNorm2dStats(x, n, c, hw, mean, variance);
      const unbiased = (n * hw) / (n * hw - 1);
      for (let ch = 0; ch < c; ch++) {
        invStd[ch] = 1 / Math.sqrt(variance[ch] + eps);
        if (runningMean && runningVar) {
          runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean[ch];
          runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * variance[ch] * unbiased;
        }
      }
    },
    batchNorm2dEvalStats(c, runningMean, runningVar, eps, mean, invStd) {
      for (let ch = 0; ch < c; ch++) {
        mean[ch] = runningMean[ch];
        invStd[ch] = 1 / Math.sqrt(runningVar[ch] + eps);
      }
    },
  };
}
