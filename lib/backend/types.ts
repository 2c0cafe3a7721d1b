// The contract every backend implements: kernels on flat float32 buffers, with shapes already
// validated by the ops layer. Layout is NCHW, conv weights OIHW, matrices row-major and
// contiguous. Backward kernels overwrite their outputs; the autograd layer accumulates.

export type BackendName = 'js' | 'cpu';

/** A conv2d problem, fully resolved (padding expanded, output size computed). */
export interface ConvGeometry {
  n: number; c: number; h: number; w: number;      // input
  o: number; kh: number; kw: number;                // weight [o, c/groups, kh, kw]
  strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  dilationH: number; dilationW: number;
  groups: number;
  oh: number; ow: number;                           // output
}

/** A pooling problem, fully resolved. */
export interface PoolGeometry {
  n: number; c: number; h: number; w: number;
  kh: number; kw: number;
  strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  dilationH: number; dilationW: number;             // 1 for average pooling
  ceilMode: boolean;
  countIncludePad: boolean;                         // average pooling only
  oh: number; ow: number;
}

/** C[m,n] = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k, op(B) is k x n. */
export interface GemmArgs {
  transA: boolean; transB: boolean;
  m: number; n: number; k: number;
  alpha: number; beta: number;
  a: Float32Array;   // m x k, or k x m when transA
  b: Float32Array;   // k x n, or n x k when transB
  c: Float32Array;   // m x n, read when beta != 0, always written
}

export interface Backend {
  readonly name: BackendName;

  gemm(args: GemmArgs): void;

  conv2dForward(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array): void;
  /** Each of dx, dw, db that is not null is overwritten. */
  conv2dBackward(g: ConvGeometry, x: Float32Array, w: Float32Array, dy: Float32Array,
    dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null): void;

  /** argmax (null when no backward pass follows) gets ih*w+iw inside each (n, c) plane. */
  maxPool2dForward(g: PoolGeometry, x: Float32Array, y: Float32Array, argmax: Int32Array | null): void;
  maxPool2dBackward(g: PoolGeometry, dy: Float32Array, argmax: Int32Array, dx: Float32Array): void;
  avgPool2dForward(g: PoolGeometry, x: Float32Array, y: Float32Array): void;
  avgPool2dBackward(g: PoolGeometry, dy: Float32Array, dx: Float32Array): void;

  relu(x: Float32Array, y: Float32Array): void;
  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  leakyRelu(x: Float32Array, y: Float32Array, slope: number): void;
  leakyReluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, slope: number): void;
  sigmoid(x: Float32Array, y: Float32Array): void;
  /** From the forward output y. */
  sigmoidBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  tanh(x: Float32Array, y: Float32Array): void;
  tanhBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void;

  /** The tensor is viewed as [outer, dim, inner]; the softmax runs along dim. */
  softmax(x: Float32Array, y: Float32Array, outer: number, dim: number, inner: number): void;
  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, outer: number, dim: number, inner: number): void;
  logSoftmax(x: Float32Array, y: Float32Array, outer: number, dim: number, inner: number): void;
  logSoftmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, outer: number, dim: number, inner: number): void;

  /** Mean cross-entropy of logits [n, c] against labels; writes softmax(logits) to probs. */
  crossEntropy(logits: Float32Array, labels: Int32Array, n: number, c: number, probs: Float32Array): number;
  /** dlogits = (probs - onehot(labels)) * scale, where scale = upstream gradient / n. */
  crossEntropyBackward(probs: Float32Array, labels: Int32Array, n: number, c: number, scale: number, dlogits: Float32Array): void;

  // The losses below return the SUM of their per-item losses (accumulated in double; the ops
  // layer divides for a mean) and write each item's loss to `losses` unless it is null. Their
  // backward passes take the upstream gradient dy as one value (length 1: 'mean', 'sum') or one
  // per item ('none'), multiplied by scale, and overwrite their outputs.
  /**
   * Soft-target cross-entropy, logits and target [n, c]: losses[r] = sum_j target[r,j] *
   * (logsumexp(logits[r,:]) - logits[r,j]), max-subtracted. Writes softmax(logits) to probs.
   */
  crossEntropySoft(logits: Float32Array, target: Float32Array, n: number, c: number, probs: Float32Array, losses: Float32Array | null): number;
  /** dlogits[r,j] = (probs[r,j] * sum_k target[r,k] - target[r,j]) * dy[r or 0] * scale. */
  crossEntropySoftBackward(probs: Float32Array, target: Float32Array, n: number, c: number, dy: Float32Array, scale: number, dlogits: Float32Array): void;
  /** losses[r] = -logProbs[r, labels[r]]. */
  nllLoss(logProbs: Float32Array, labels: Int32Array, n: number, c: number, losses: Float32Array | null): number;
  /** dlogProbs = 0 except dlogProbs[r, labels[r]] = -dy[r or 0] * scale. */
  nllLossBackward(labels: Int32Array, n: number, c: number, dy: Float32Array, scale: number, dlogProbs: Float32Array): void;
  /** losses[i] = (input[i] - target[i])^2. */
  mseLoss(input: Float32Array, target: Float32Array, losses: Float32Array | null): number;
  /** dinput = 2 (input - target) * dy[i or 0] * scale, dtarget = -dinput; either may be null. */
  mseLossBackward(input: Float32Array, target: Float32Array, dy: Float32Array, scale: number,
    dinput: Float32Array | null, dtarget: Float32Array | null): void;
  /**
   * With w = 1 + (posWeight[i % posWeight.length] - 1) * t (1 without posWeight):
   * losses[i] = (1 - t) x + w * (log1p(exp(-|x|)) + max(-x, 0)), i.e. max(x,0) - x t + log1p(exp(-|x|)) for w = 1.
   */
  bceWithLogits(logits: Float32Array, target: Float32Array, posWeight: Float32Array | null, losses: Float32Array | null): number;
  /** dlogits = ((1 - t) - w sigmoid(-x)) * g, dtarget = (-x + (pw - 1) softplus(-x)) * g; either may be null. */
  bceWithLogitsBackward(logits: Float32Array, target: Float32Array, posWeight: Float32Array | null, dy: Float32Array, scale: number,
    dlogits: Float32Array | null, dtarget: Float32Array | null): void;

  // Batch normalisation: x is viewed as [n, c, hw] (NCHW with the plane flattened) and every
  // statistic is per channel, accumulated in double.
  /** Writes each channel's mean and biased variance over its n*hw values. */
  batchNorm2dStats(x: Float32Array, n: number, c: number, hw: number, mean: Float32Array, variance: Float32Array): void;
  /** y = (x - mean[c]) * invStd[c] * weight[c] + bias[c]; a null weight is 1 and a null bias 0. */
  batchNorm2dForward(x: Float32Array, n: number, c: number, hw: number, mean: Float32Array, invStd: Float32Array,
    weight: Float32Array | null, bias: Float32Array | null, y: Float32Array): void;
  /**
   * With xhat = (x - mean) * invStd: dweight = sum(dy * xhat), dbias = sum(dy), and dx through
   * the batch statistics when training (mean and invStd were computed from x), else the affine
   * dx = dy * weight * invStd. Each of dx, dweight, dbias that is not null is overwritten.
   */
  batchNorm2dBackward(x: Float32Array, dy: Float32Array, n: number, c: number, hw: number, mean: Float32Array,
    invStd: Float32Array, weight: Float32Array | null, training: boolean,
    dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null): void;

  /**
   * Inverted dropout: y = x * (mask ? scale : 0), as a product so NaN propagates (PyTorch).
   * The forward pass applies it to x, the backward pass to dy, with the same mask and scale.
   */
  dropout(x: Float32Array, mask: Uint8Array, scale: number, y: Float32Array): void;

  // Off-the-event-loop variants of the heavy kernels. The js backend computes synchronously
  // and resolves; the cpu backend runs an AsyncWorker on the libuv pool.
  gemmAsync(args: GemmArgs): Promise<void>;
  conv2dForwardAsync(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array): Promise<void>;
  maxPool2dForwardAsync(g: PoolGeometry, x: Float32Array, y: Float32Array, argmax: Int32Array | null): Promise<void>;
}
