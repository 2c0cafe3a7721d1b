// Softmax cross-entropy over class logits [n, c] with integer labels (validated by the caller).
import type { Floats } from './floats.js';

/** log(sum(exp(row))) with the row max subtracted first, so logits of 1e4 stay finite; NaN propagates. */
function rowLogSumExp(logits: Floats, row: number, c: number): number {
  let max = -Infinity;
  for (let j = 0; j < c; j++) {
    const v = logits[row + j];
    if (v > max || Number.isNaN(v)) max = v;
  }
  let sumExp = 0;
  for (let j = 0; j < c; j++) sumExp += Math.exp(logits[row + j] - max);
  return max + Math.log(sumExp);
}

/**
 * Mean over the batch of -log softmax(logits)[label], computed as logsumexp(row) - row[label]
 * with the row max subtracted, so logits of 1e4 neither overflow nor lose the answer.
 * Writes softmax(logits) to probs for the backward pass. An empty batch gives NaN, as a mean of nothing.
 */
export function crossEntropy(logits: Floats, labels: Int32Array, n: number, c: number, probs: Floats): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const row = r * c;
    const logSumExp = rowLogSumExp(logits, row, c);
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

// The losses below return the SUM of their per-item losses (the ops layer divides for a mean)
// and write each item's loss to `losses` unless it is null. Backward passes take the upstream
// gradient dy as one value (length 1) or one per item, times scale, and overwrite their outputs.

/** The upstream gradient of item i: dy broadcast when it has one element. */
function upstream(dy: Floats, i: number): number {
  return dy.length === 1 ? dy[0] : dy[i];
}

/** log(1 + exp(-x)) for any x: max(-x, 0) + log1p(exp(-|x|)); NaN for NaN. */
function softplusNeg(x: number): number {
  return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * Soft-target cross-entropy over rows of [n, c]: losses[r] = sum_j target[r,j] * (logsumexp(row) - row[j]),
 * with the row max subtracted so logits of 1e4 stay finite. Writes softmax(logits) to probs.
 */
export function crossEntropySoft(logits: Floats, target: Floats, n: number, c: number, probs: Floats,
  losses: Floats | null): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const row = r * c;
    const logSumExp = rowLogSumExp(logits, row, c);
    let loss = 0;
    for (let j = 0; j < c; j++) {
      probs[row + j] = Math.exp(logits[row + j] - logSumExp);
      loss += target[row + j] * (logSumExp - logits[row + j]);
    }
    if (losses) losses[r] = loss;
    total += loss;
  }
  return total;
}

/** dlogits[r,j] = (probs[r,j] * sum_k target[r,k] - target[r,j]) * dy[r] * scale. */
export function crossEntropySoftBackward(probs: Floats, target: Floats, n: number, c: number, dy: Floats,
  scale: number, dlogits: Floats): void {
  for (let r = 0; r < n; r++) {
    const row = r * c;
    let targetSum = 0;
    for (let j = 0; j < c; j++) targetSum += target[row + j];
    const g = upstream(dy, r) * scale;
    for (let j = 0; j < c; j++) dlogits[row + j] = (probs[row + j] * targetSum - target[row + j]) * g;
  }
}

/** losses[r] = -logProbs[r, labels[r]]. */
export function nllLoss(logProbs: Floats, labels: Int32Array, n: number, c: number, losses: Floats | null): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const loss = -logProbs[r * c + labels[r]];
    if (losses) losses[r] = loss;
    total += loss;
  }
  return total;
}

/** dlogProbs is zero except at each row's label, where it is -dy[r] * scale. */
export function nllLossBackward(labels: Int32Array, n: number, c: number, dy: Floats, scale: number,
  dlogProbs: Floats): void {
  dlogProbs.fill(0, 0, n * c);
  for (let r = 0; r < n; r++) dlogProbs[r * c + labels[r]] = -(upstream(dy, r) * scale);
}

/** losses[i] = (input[i] - target[i])^2. */
export function mseLoss(input: Floats, target: Floats, losses: Floats | null): number {
  let total = 0;
  for (let i = 0; i < input.length; i++) {
    const d = input[i] - target[i];
    if (losses) losses[i] = d * d;
    total += d * d;
  }
  return total;
}

/** dinput = 2 (input - target) * dy[i] * scale, dtarget = -dinput. */
export function mseLossBackward(input: Floats, target: Floats, dy: Floats, scale: number,
  dinput: Floats | null, dtarget: Floats | null): void {
  for (let i = 0; i < input.length; i++) {
    const g = 2 * (input[i] - target[i]) * (upstream(dy, i) * scale);
    if (dinput) dinput[i] = g;
    if (dtarget) dtarget[i] = -g;
  }
}

/**
 * Binary cross-entropy on logits, stable for any x: with w = 1 + (posWeight - 1) * t,
 * loss = (1 - t) x + w * log(1 + exp(-x)), which for w = 1 is max(x,0) - x t + log1p(exp(-|x|)).
 * posWeight (or null) repeats along the items: item i uses posWeight[i % posWeight.length].
 */
export function bceWithLogits(logits: Floats, target: Floats, posWeight: Floats | null, losses: Floats | null): number {
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    const t = target[i];
    const w = posWeight ? 1 + (posWeight[i % posWeight.length] - 1) * t : 1;
    const loss = (1 - t) * x + w * softplusNeg(x);
    if (losses) losses[i] = loss;
    total += loss;
  }
  return total;
}

/** dlogits = ((1 - t) - w * sigmoid(-x)) * g and dtarget = (-x + (pw - 1) * log(1 + exp(-x))) * g. */
export function bceWithLogitsBackward(logits: Floats, target: Floats, posWeight: Floats | null, dy: Floats,
  scale: number, dlogits: Floats | null, dtarget: Floats | null): void {
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    const t = target[i];
    const pw = posWeight ? posWeight[i % posWeight.length] : 1;
    const g = upstream(dy, i) * scale;
    if (dlogits) dlogits[i] = ((1 - t) - (1 + (pw - 1) * t) / (1 + Math.exp(x))) * g;
    if (dtarget) dtarget[i] = (-x + (pw - 1) * softplusNeg(x)) * g;
  }
}
