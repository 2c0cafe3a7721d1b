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
export { add, sub, mul, div, clamp } from './ops/binary.js';
export { sum, mean } from './ops/reduce.js';
export { permute, transpose, concat, split, slice } from './ops/layout.js';
export { argmax } from './ops/argmax.js';
export { crossEntropy, nllLoss, mseLoss, bceWithLogits, type LossReduction, type LossOptions, type CrossEntropyOptions, type BceWithLogitsOptions } from './ops/loss.js';
export { batchNorm2d, type BatchNorm2dOptions } from './ops/batchnorm.js';
export { dropout } from './ops/dropout.js';
export { conv2dAsync, gemmAsync, matmulAsync, maxPool2dAsync } from './ops/async.js';
export { availableBackends, setBackend, getBackend, backendInfo, setNumThreads, type BackendInfo } from './backend/registry.js';
export type { NativeSource } from './native.js';
export type { BackendName, DeviceName } from './backend/types.js';
/** The GPU: availability, the device, the caching allocator and TF32, as torch.cuda. */
export * as cuda from './cuda.js';
/** The host caching allocator behind cpu tensors: its statistics, cache and limit. */
export * as cpu from './cpu.js';
export { manualSeed, Generator } from './random.js';
/**
 * Layers as modules (Conv2d, Linear, pooling, activations, BatchNorm2d, Dropout, Sequential,
 * Residual), as torch.nn.
 */
export * as nn from './nn/index.js';
/** Weight initializers, as torch.nn.init: each fills a tensor in place and returns it. */
export * as init from './init/index.js';
/** Optimizers (SGD, RMSprop, Adam, AdamW) and learning-rate schedules, as torch.optim. */
export * as optim from './optim/index.js';
/** Datasets, batching, IDX files and MNIST. */
export * as data from './data/index.js';
export { summary, outputSize, outputSizeDetail, stepsToReach, parseSpec, type LayerRow, type Summary, type OutputSizeOptions, type OutputSizeDetail, type StepsOptions, type StepsResult, type ParsedSpec } from './summary/index.js';
export { fit, evaluate, predict } from './train/index.js';
export type { FitOptions, History, EpochLogs, BatchLogs, Callbacks, CallbackResult, TrainControl, EarlyStoppingOptions, CheckpointOptions, ProgressOptions, ProgressWriter, EvaluateOptions, EvaluateResult, PredictOptions, DataSource, LossName, LossFunction, MetricName, MonitorName } from './train/index.js';
export { save, saveSync, load, loadStateDictFile, readSafetensors, writeSafetensors, IntegerTensor, type SaveOptions, type SafetensorsContents, type IntegerDtype, type IntegerArray } from './io/index.js';
export { compile, CompiledModel, type CompileOptions } from './compile/compiled-model.js';
export { exportOnnx, encodeOnnx, type OnnxExportOptions } from './onnx/index.js';
export { createBatcher, createWorkerPool, fromImage, QueueFullError, ClosedError } from './serve/index.js';
export type { Batcher, BatcherOptions, BatcherStats, InferFunction, WorkerPool, WorkerPoolOptions, WorkerPoolCallOptions, FromImageOptions, ChannelCount, CallOptions } from './serve/index.js';
