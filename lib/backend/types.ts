// The contract every backend implements: kernels on flat buffers, with shapes already
// validated by the ops layer. Layout is NCHW, conv weights OIHW, matrices row-major and
// contiguous. Backward kernels overwrite their outputs; the autograd layer accumulates.
//
// A backend owns its storage type: host backends (js, cpu) work on Float32Array /
// Int32Array / Uint8Array, the cuda backend on DeviceArray handles to GPU memory. The ops
// layer never looks inside a buffer; it allocates, views and copies through the backend, so
// a training step on cuda never round-trips through the host.

/** `js` (plain loops, always there), `cpu` (the native addon), `cuda` (the GPU). */
export type BackendName = 'js' | 'cpu' | 'cuda';

/** Where a tensor's storage lives. */
export type DeviceName = 'cpu' | 'cuda';

/** A handle to GPU memory (made by the native addon; see native/binding/cuda/device_array.h). */
export interface DeviceArray {
  readonly length: number;
  readonly dtype: 'float32' | 'int32' | 'uint8';
  readonly disposed: boolean;
  /** Releases this handle; the memory returns to the cache once no view of it is left. Idempotent. */
  dispose(): void;
  /** A handle to elements [offset, offset + length) of the same memory. */
  view(offset: number, length: number): DeviceArray;
  /** Copies host values in (same length and element type). */
  upload(src: Float32Array | Int32Array | Uint8Array): void;
  /** Copies the values out, waiting for the GPU. */
  download(dst: Float32Array | Int32Array | Uint8Array): void;
  /** Copies the values out on the libuv pool: the event loop never waits for the GPU. */
  downloadAsync(dst: Float32Array | Int32Array | Uint8Array): Promise<void>;
}

/** Float storage of any backend. */
export type Storage = Float32Array | DeviceArray;
/** Int32 storage (labels, argmax) of any backend. */
export type IntStorage = Int32Array | DeviceArray;
/** Uint8 storage (dropout masks) of any backend. */
export type MaskStorage = Uint8Array | DeviceArray;

/** A conv2d problem, fully resolved (padding expanded, output size computed). */
export interface ConvGeometry {
  n: number; c: number; h: number; w: number;      // input
  o: number; kh: number; kw: number;                // weight [o, c/groups, kh, kw]
  strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  dilationH: number; dilationW: number;
  groups: number;
  oh: number; ow: number;                           // output
  /** The same numbers in this order, packed once so that a native binding reads them in one go. */
  packed: Int32Array;
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
  /** The same numbers in this order (booleans as 0/1), packed once for the native bindings. */
  packed: Int32Array;
}

/** The arithmetic of `binary`, numbered as the native kernels take it: add 0, sub 1, mul 2, div 3. */
export const BinaryOpCode = { add: 0, sub: 1, mul: 2, div: 3 } as const;
/** One of BinaryOpCode's values. */
export type BinaryOpCode = (typeof BinaryOpCode)[keyof typeof BinaryOpCode];

/**
 * An elementwise op's output of `shape` (row-major) and where each operand is read: element
 * strides, 0 along the dims it is broadcast along. Coalesced (lib/ops/broadcast.ts): no dim of
 * size 1, neighbours that stay contiguous in both operands merged, rank at least 1, so a
 * per-channel bias over NCHW is [N, C, H*W] and a same-shape or scalar operand one dim.
 */
export interface BroadcastGeometry {
  shape: readonly number[];
  aStrides: readonly number[];
  bStrides: readonly number[];
  /** [rank, shape..., aStrides..., bStrides...], packed once for the native bindings. */
  packed: Int32Array;
}

/**
 * A sum over some dims of x (row-major `shape`): the output keeps the others, in order.
 * Coalesced like BroadcastGeometry: no dim of size 1, neighbours with the same flag merged.
 */
export interface ReduceGeometry {
  shape: readonly number[];
  reduced: readonly boolean[];
  /** [rank, shape..., reduced as 0/1...], packed once for the native bindings. */
  packed: Int32Array;
}

/**
 * A strided copy: for every index (i_0, ..., i_{r-1}) of shape,
 * dst[dstOffset + sum_k i_k * dstStrides[k]] = src[srcOffset + sum_k i_k * srcStrides[k]].
 * Built by lib/ops/strided-copy.ts, which drops size-1 dims, makes every dst stride positive,
 * orders the dims by falling dst stride and merges dims that stay contiguous in both, so a
 * kernel sees the fewest dims (a plain copy is rank 1 with unit strides). Source strides may be
 * negative (a slice with a negative step); no dst element is written twice, and src and dst
 * are distinct buffers.
 */
export interface StridedCopy {
  readonly shape: readonly number[];
  readonly srcOffset: number;
  readonly srcStrides: readonly number[];
  readonly dstOffset: number;
  readonly dstStrides: readonly number[];
  /** rank, srcOffset, dstOffset, then shape, srcStrides and dstStrides: packed once for the native bindings. */
  readonly packed: Int32Array;
}

/** C[m,n] = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k, op(B) is k x n. */
export interface GemmArgs<F = Float32Array> {
  transA: boolean; transB: boolean;
  m: number; n: number; k: number;
  alpha: number; beta: number;
  a: F;   // m x k, or k x m when transA
  b: F;   // k x n, or n x k when transB
  c: F;   // m x n, read when beta != 0, always written
}

/** One torch.optim.SGD update; `first` marks a parameter's first step (its buffer becomes the gradient). */
export interface SgdStepOptions {
  lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; first: boolean;
}

/** One torch.optim.Adam / AdamW update at the parameter's step count `step` (1 first). */
export interface AdamStepOptions {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; step: number;
}

/** One torch.optim.RMSprop update. */
export interface RmspropStepOptions {
  lr: number; alpha: number; eps: number; weightDecay: number; momentum: number;
}

export interface Backend<F = Float32Array, I = Int32Array, U = Uint8Array> {
  readonly name: BackendName;
  readonly device: DeviceName;

  // Storage. On host backends fromHost and toHost may return their argument itself.
  /** n zeros. */
  alloc(n: number): F;
  /** n elements with undefined contents, for outputs that a kernel overwrites completely (no zero-fill). */
  empty(n: number): F;
  /**
   * Gives x's memory back now instead of at garbage collection. x must span its whole allocation
   * (from alloc, empty or allocInt32) and neither it nor any view of it may be used again. With
   * detach, a stale view the user may hold reads as empty instead of the next tensor's data
   * (dispose()); buffers the user never saw skip that (on the host it costs ~1 us an array).
   * Device memory and the addon's host blocks are always detached.
   */
  release(x: F | I, detach: boolean): void;
  fromHost(values: Float32Array): F;
  toHost(x: F): Float32Array;
  /** Waits for the device off the event loop. */
  toHostAsync(x: F): Promise<Float32Array>;
  /** Overwrites x with host values of the same length. */
  copyFromHost(values: Float32Array, x: F): void;
  /** Elements [offset, offset + length) of x, sharing its memory. */
  view(x: F, offset: number, length: number): F;
  int32FromHost(values: Int32Array): I;
  /** n int32 elements with undefined contents (argmax outputs, which the kernel overwrites). */
  allocInt32(n: number): I;
  uint8FromHost(values: Uint8Array): U;
  /** A host copy of int32 storage (waits for the device; on the host it may return x itself). */
  int32ToHost(x: I): Int32Array;

  // Elementwise helpers for the autograd, the ops and the optimizers.
  copy(src: F, dst: F): void;
  fill(x: F, value: number): void;
  /** y += alpha * x. */
  axpy(alpha: number, x: F, y: F): void;
  /** x *= alpha. */
  scale(x: F, alpha: number): void;
  /** y [m, n] = c broadcast from [rows, cols], where rows is 1 or m and cols is 1 or n. */
  broadcast2d(c: F, rows: number, cols: number, m: number, n: number, y: F): void;
  /** dc [rows, cols] = beta * dy [m, n] summed over the broadcast dims (the adjoint of broadcast2d). */
  reduce2d(dy: F, rows: number, cols: number, m: number, n: number, beta: number, dc: F): void;

  // Broadcasting arithmetic and reductions (lib/ops/binary.ts, lib/ops/reduce.ts); each
  // operand holds exactly the elements its strides reach.
  /** y = a op b over g's output, each operand read at its strides (0 where broadcast). */
  binary(op: BinaryOpCode, g: BroadcastGeometry, a: F, b: F, y: F): void;
  /** y = float(sum) * beta over g's reduced dims, accumulated in double; an empty sum is 0. */
  sumAxes(g: ReduceGeometry, x: F, beta: number, y: F): void;
  /** y = min(max(x, lo), hi) with NaN kept; lo <= hi (omitted bounds are -Infinity, Infinity). */
  clamp(x: F, lo: number, hi: number, y: F): void;
  /** dx = dy where lo <= x <= hi, else 0 (PyTorch's clamp backward). */
  clampBackward(x: F, dy: F, lo: number, hi: number, dx: F): void;

  gemm(args: GemmArgs<F>): void;

  conv2dForward(g: ConvGeometry, x: F, w: F, bias: F | null, y: F): void;
  /** Each of dx, dw, db that is not null is overwritten. */
  conv2dBackward(g: ConvGeometry, x: F, w: F, dy: F, dx: F | null, dw: F | null, db: F | null): void;

  /** argmax (null when no backward pass follows) gets ih*w+iw inside each (n, c) plane. */
  maxPool2dForward(g: PoolGeometry, x: F, y: F, argmax: I | null): void;
  maxPool2dBackward(g: PoolGeometry, dy: F, argmax: I, dx: F): void;
  avgPool2dForward(g: PoolGeometry, x: F, y: F): void;
  avgPool2dBackward(g: PoolGeometry, dy: F, dx: F): void;

  relu(x: F, y: F): void;
  reluBackward(x: F, dy: F, dx: F): void;
  leakyRelu(x: F, y: F, slope: number): void;
  leakyReluBackward(x: F, dy: F, dx: F, slope: number): void;
  sigmoid(x: F, y: F): void;
  /** From the forward output y. */
  sigmoidBackward(y: F, dy: F, dx: F): void;
  tanh(x: F, y: F): void;
  tanhBackward(y: F, dy: F, dx: F): void;

  /** The tensor is viewed as [outer, dim, inner]; the softmax runs along dim. */
  softmax(x: F, y: F, outer: number, dim: number, inner: number): void;
  softmaxBackward(y: F, dy: F, dx: F, outer: number, dim: number, inner: number): void;
  logSoftmax(x: F, y: F, outer: number, dim: number, inner: number): void;
  logSoftmaxBackward(y: F, dy: F, dx: F, outer: number, dim: number, inner: number): void;

  // Losses. A forward pass writes each item's loss to `losses` unless it is null, and
  // total[0] = scale * (the sum of the per-item losses, accumulated in double) unless total is
  // null: scale is 1/items for a mean, 1 for a sum. The result stays in the backend's storage,
  // so a step on cuda never waits for the GPU. Backward passes take the upstream gradient dy as
  // one value (length 1: 'mean', 'sum') or one per item ('none'), times scale, and overwrite
  // their outputs.
  /** Fused softmax + cross-entropy of logits [n, c] against class labels; writes softmax(logits) to probs. */
  crossEntropy(logits: F, labels: I, n: number, c: number, probs: F, total: F, scale: number): void;
  /** dlogits = (probs - onehot(labels)) * dy[0] * scale. */
  crossEntropyBackward(probs: F, labels: I, n: number, c: number, dy: F, scale: number, dlogits: F): void;
  /**
   * Soft-target cross-entropy, logits and target [n, c]: losses[r] = sum_j target[r,j] *
   * (logsumexp(logits[r,:]) - logits[r,j]), max-subtracted. Writes softmax(logits) to probs.
   */
  crossEntropySoft(logits: F, target: F, n: number, c: number, probs: F, losses: F | null, total: F | null, scale: number): void;
  /** dlogits[r,j] = (probs[r,j] * sum_k target[r,k] - target[r,j]) * dy[r or 0] * scale. */
  crossEntropySoftBackward(probs: F, target: F, n: number, c: number, dy: F, scale: number, dlogits: F): void;
  /** losses[r] = -logProbs[r, labels[r]]. */
  nllLoss(logProbs: F, labels: I, n: number, c: number, losses: F | null, total: F | null, scale: number): void;
  /** dlogProbs = 0 except dlogProbs[r, labels[r]] = -dy[r or 0] * scale. */
  nllLossBackward(labels: I, n: number, c: number, dy: F, scale: number, dlogProbs: F): void;
  /** losses[i] = (input[i] - target[i])^2. */
  mseLoss(input: F, target: F, losses: F | null, total: F | null, scale: number): void;
  /** dinput = 2 (input - target) * dy[i or 0] * scale, dtarget = -dinput; either may be null. */
  mseLossBackward(input: F, target: F, dy: F, scale: number, dinput: F | null, dtarget: F | null): void;
  /**
   * With w = 1 + (posWeight[i % posWeight.length] - 1) * t (1 without posWeight):
   * losses[i] = (1 - t) x + w * (log1p(exp(-|x|)) + max(-x, 0)), i.e. max(x,0) - x t + log1p(exp(-|x|)) for w = 1.
   */
  bceWithLogits(logits: F, target: F, posWeight: F | null, losses: F | null, total: F | null, scale: number): void;
  /** dlogits = ((1 - t) - w sigmoid(-x)) * g, dtarget = (-x + (pw - 1) softplus(-x)) * g; either may be null. */
  bceWithLogitsBackward(logits: F, target: F, posWeight: F | null, dy: F, scale: number, dlogits: F | null, dtarget: F | null): void;

  // Batch normalisation: x is viewed as [n, c, hw] (NCHW with the plane flattened) and every
  // statistic is per channel, accumulated in double.
  /**
   * Training statistics: each channel's mean and invStd = 1/sqrt(biased variance + eps); when
   * runningMean / runningVar are given they move toward them in place:
   * r = (1 - momentum) r + momentum * stat, with the unbiased variance (count / (count - 1)).
   */
  batchNorm2dTrainStats(x: F, n: number, c: number, hw: number, eps: number, momentum: number,
    mean: F, invStd: F, runningMean: F | null, runningVar: F | null): void;
  /** Evaluation statistics: mean = runningMean, invStd = 1/sqrt(runningVar + eps) (copies). */
  batchNorm2dEvalStats(c: number, runningMean: F, runningVar: F, eps: number, mean: F, invStd: F): void;
  /** y = (x - mean[c]) * invStd[c] * weight[c] + bias[c]; a null weight is 1 and a null bias 0. */
  batchNorm2dForward(x: F, n: number, c: number, hw: number, mean: F, invStd: F, weight: F | null, bias: F | null, y: F): void;
  /**
   * With xhat = (x - mean) * invStd: dweight = sum(dy * xhat), dbias = sum(dy), and dx through
   * the batch statistics when training (mean and invStd were computed from x), else the affine
   * dx = dy * weight * invStd. Each of dx, dweight, dbias that is not null is overwritten.
   */
  batchNorm2dBackward(x: F, dy: F, n: number, c: number, hw: number, mean: F, invStd: F, weight: F | null, training: boolean,
    dx: F | null, dweight: F | null, dbias: F | null): void;

  // Layout: permute, slice, concat and split, forward and backward, are each a few strided copies.
  stridedCopy(plan: StridedCopy, src: F, dst: F): void;
  /**
   * x viewed as [outer, dim, inner] (dim >= 1): out[o * inner + i] = the first d of the largest
   * x[o, d, i], a NaN counting as larger than any number (PyTorch's rule).
   */
  argmax(x: F, outer: number, dim: number, inner: number, out: I): void;

  /**
   * Inverted dropout: y = x * (mask ? scale : 0), as a product so NaN propagates (PyTorch).
   * The forward pass applies it to x, the backward pass to dy, with the same mask and scale.
   */
  dropout(x: F, mask: U, scale: number, y: F): void;

  // Optimizer updates: one fused pass over a parameter, its gradient and its state buffers,
  // with the formulas of lib/optim (which match torch.optim).
  /** buf is null exactly when momentum is 0. */
  sgdStep(param: F, grad: F, buf: F | null, o: SgdStepOptions): void;
  /** maxExpAvgSq is given for AMSGrad only. */
  adamStep(param: F, grad: F, expAvg: F, expAvgSq: F, maxExpAvgSq: F | null, o: AdamStepOptions): void;
  /** momentumBuffer is given when momentum > 0, gradAvg for the centered variant. */
  rmspropStep(param: F, grad: F, squareAvg: F, momentumBuffer: F | null, gradAvg: F | null, o: RmspropStepOptions): void;

  // Off-the-event-loop variants of the heavy kernels. The js backend computes synchronously
  // and resolves; the cpu backend runs an AsyncWorker on the libuv pool; cuda queues the
  // kernel and resolves when the GPU has finished it.
  gemmAsync(args: GemmArgs<F>): Promise<void>;
  conv2dForwardAsync(g: ConvGeometry, x: F, w: F, bias: F | null, y: F): Promise<void>;
  maxPool2dForwardAsync(g: PoolGeometry, x: F, y: F, argmax: I | null): Promise<void>;
}

/** A backend as the ops layer sees it: storage of whichever device the tensors are on. */
export type AnyBackend = Backend<Storage, IntStorage, MaskStorage>;
