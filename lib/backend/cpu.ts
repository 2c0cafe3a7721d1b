// The native cpu backend: the addon's kernels, whose signatures equal the host kernel set,
// behind the host storage and helpers. The binding checks buffer sizes against the geometry;
// shapes arrive validated from the ops.
import type { Backend } from './types.js';
import type { NativeAddon } from '../native.js';
import { hostBackend } from './host.js';
import type { CachedHostMemory } from './host-memory.js';
import { stagedAsyncKernels } from './async-staging.js';

/** The cpu backend, and its storage (convkit.cpu's controls reach the caches through it). */
export function createCpuBackend(addon: NativeAddon, memory: CachedHostMemory): Backend {
  const backend = hostBackend('cpu', {
    binary: addon.binary,
    sumAxes: addon.sumAxes,
    clamp: addon.clamp,
    clampBackward: addon.clampBackward,
    gemm: addon.gemm,
    gemmAsync: addon.gemmAsync,
    conv2dForward: addon.conv2dForward,
    conv2dForwardAsync: addon.conv2dForwardAsync,
    conv2dBackward: addon.conv2dBackward,
    maxPool2dForward: addon.maxPool2dForward,
    maxPool2dForwardAsync: addon.maxPool2dForwardAsync,
    maxPool2dBackward: addon.maxPool2dBackward,
    avgPool2dForward: addon.avgPool2dForward,
    avgPool2dBackward: addon.avgPool2dBackward,
    relu: addon.relu,
    reluBackward: addon.reluBackward,
    leakyRelu: addon.leakyRelu,
    leakyReluBackward: addon.leakyReluBackward,
    sigmoid: addon.sigmoid,
    sigmoidBackward: addon.sigmoidBackward,
    tanh: addon.tanh,
    tanhBackward: addon.tanhBackward,
    softmax: addon.softmax,
    softmaxBackward: addon.softmaxBackward,
    logSoftmax: addon.logSoftmax,
    logSoftmaxBackward: addon.logSoftmaxBackward,
    crossEntropy: addon.crossEntropy,
    crossEntropyBackward: addon.crossEntropyBackward,
    crossEntropySoft: addon.crossEntropySoft,
    crossEntropySoftBackward: addon.crossEntropySoftBackward,
    nllLoss: addon.nllLoss,
    nllLossBackward: addon.nllLossBackward,
    mseLoss: addon.mseLoss,
    mseLossBackward: addon.mseLossBackward,
    bceWithLogits: addon.bceWithLogits,
    bceWithLogitsBackward: addon.bceWithLogitsBackward,
    batchNorm2dStats: addon.batchNorm2dStats,
    batchNorm2dForward: addon.batchNorm2dForward,
    batchNorm2dBackward: addon.batchNorm2dBackward,
    dropout: addon.dropout,
    stridedCopy: addon.stridedCopy,
    argmax: addon.argmax,
    sgdStep: addon.sgdStep,
    adamStep: addon.adamStep,
    rmspropStep: addon.rmspropStep,
  }, memory);
  // The autograd's accumulations and Linear's bias, vectorised; below a few hundred elements
  // host.ts's loops cost less than the call into the addon.
  const small = (n: number) => n < NATIVE_ELEMENTWISE_FROM;
  return {
    ...backend,
    ...stagedAsyncKernels(addon, memory),
    axpy: (alpha, x, y) => (small(y.length) ? backend.axpy(alpha, x, y) : addon.axpy(alpha, x, y)),
    scale: (x, alpha) => (small(x.length) ? backend.scale(x, alpha) : addon.scale(x, alpha)),
    broadcast2d: (c, rows, cols, m, n, y) => (small(y.length) ? backend.broadcast2d(c, rows, cols, m, n, y) : addon.broadcast2d(c, rows, cols, m, n, y)),
    reduce2d: (dy, rows, cols, m, n, beta, dc) => (small(dy.length) ? backend.reduce2d(dy, rows, cols, m, n, beta, dc) : addon.reduce2d(dy, rows, cols, m, n, beta, dc)),
  };
}

const NATIVE_ELEMENTWISE_FROM = 256;
