// convkit's public API.
export { Tensor, tensor, type TensorOptions } from './tensor.js';
export { noGrad } from './autograd.js';
export type { Pair, Padding, Conv2dOptions, MaxPool2dOptions, AvgPool2dOptions } from './geometry.js';
export { conv2d } from './ops/conv.js';
export { maxPool2d, avgPool2d, globalAvgPool2d, globalMaxPool2d } from './ops/pool.js';
export { gemm, linear, type GemmOptions } from './ops/gemm.js';
export { matmul } from './ops/matmul.js';
export { relu, leakyRelu, sigmoid, tanh, softmax, logSoftmax } from './ops/activation.js';
export { reshape, flatten } from './ops/shape.js';
export { crossEntropy } from './ops/loss.js';
export { conv2dAsync, gemmAsync, matmulAsync, maxPool2dAsync } from './ops/async.js';
export { availableBackends, setBackend, getBackend, backendInfo, setNumThreads, type BackendInfo } from './backend/registry.js';
export type { BackendName } from './backend/types.js';
export { manualSeed, Generator } from './random.js';
export * as init from './init/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
