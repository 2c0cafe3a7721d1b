// The js backend: plain loops in TypeScript. It is the reference the native and CUDA kernels
// are tested against, and the fallback when the addon cannot load.
import type { Backend } from '../types.js';
import { hostBackend, type HostKernels } from '../host.js';
import { gemm } from './gemm.js';
import { conv2dForward, conv2dBackward } from './conv.js';
import { maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward } from './pool.js';
import {
  relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward,
  softmax, softmaxBackward, logSoftmax, logSoftmaxBackward,
} from './activation.js';
import {
  crossEntropy, crossEntropyBackward, crossEntropySoft, crossEntropySoftBackward, nllLoss, nllLossBackward,
  mseLoss, mseLossBackward, bceWithLogits, bceWithLogitsBackward,
} from './loss.js';
import { batchNorm2dStats, batchNorm2dForward, batchNorm2dBackward } from './batchnorm.js';
import { dropout } from './dropout.js';
import { binary, sumAxes, clamp, clampBackward } from './arith.js';
import { sgdStep, adamStep, rmspropStep } from './optim.js';
import { stridedCopy, argmax } from './layout.js';

export const jsKernels: HostKernels = {
  binary,
  sumAxes,
  clamp,
  clampBackward,

  gemm,
  conv2dForward,
  conv2dBackward,
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,

  relu,
  reluBackward,
  leakyRelu,
  leakyReluBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,

  softmax,
  softmaxBackward,
  logSoftmax,
  logSoftmaxBackward,

  crossEntropy,
  crossEntropyBackward,
  crossEntropySoft,
  crossEntropySoftBackward,
  nllLoss,
  nllLossBackward,
  mseLoss,
  mseLossBackward,
  bceWithLogits,
  bceWithLogitsBackward,

  batchNorm2dStats,
  batchNorm2dForward,
  batchNorm2dBackward,
  dropout,
  stridedCopy,
  argmax,

  sgdStep,
  adamStep,
  rmspropStep,

  // There is no thread to hand the work to: compute now, and report errors as rejections
  // (an async function turns a throw into a rejected promise).
  async gemmAsync(args) { gemm(args); },
  async conv2dForwardAsync(g, x, w, bias, y) { conv2dForward(g, x, w, bias, y); },
  async maxPool2dForwardAsync(g, x, y, argmax) { maxPool2dForward(g, x, y, argmax); },
};

export const jsBackend: Backend = hostBackend('js', jsKernels);
