// Softmax cross-entropy over class logits [n, c] with integer labels (validated by the caller).
import type { Floats } from './floats.js';

/**
 * Mean over the batch of -log softmax(logits)[label], computed as logsumexp(row) - row[label]
 * with the row max subtracted, so logits of 1e4 neither overflow nor lose the answer.
 * Writes softmax(logits) to probs for the backward pass. An empty batch gives NaN, as a mean of nothing.
 */
export function crossEntropy(logits: Floats, labels: Int32Array, n: number, c: number, probs: Floats): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const row = r * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) {
      const v = logits[row + j];
      if (v > max || Number.isNaN(v)) max = v;
    }
    let sumExp = 0;
    for (let j = 0; j < c; j++) sumExp += Math.exp(logits[row + j] - max);
    const logSumExp = max + Math.log(sumExp);
    for (let j = 0; j < c; j++) probs[row + j] = Math.exp(logits[row + j] - logSumExp);
    total += logSumExp - logits[row + labels[r]];
  }
  return total / n;
}

/** dlogits = (probs - onehot(labels)) * scale, where scale is the upstream gradient / n. */
export function crossEntropyBackward(probs: Floats, labels: Int32Array, n: number, c: number,
  scale: number, dlogits: Floats): void {
  for (let r = 0; r < n; r++) {
    const row = r * c;
    for (let j = 0; j < c; j++) {
      const target = j === labels[r] ? 1 : 0;
      dlogits[row + j] = (probs[row + j] - target) * scale;
    }
  }
}
