// convkit.nn: layers as modules with named parameters, train/eval modes, state dicts and
// JSON configs. Call a module with module.forward(x).
export { Module, type ModuleConfig, type StateDict, type LoadableStateDict, type LoadStateDictOptions } from './module.js';
export { Conv2d, Conv1d, type Conv2dLayerOptions, type Conv1dLayerOptions } from './conv.js';
export { Linear, type LinearOptions } from './linear.js';
export { MaxPool2d, AvgPool2d, GlobalAvgPool2d } from './pool.js';
export { Flatten } from './shape.js';
export { Dropout } from './dropout.js';
export { BatchNorm2d, type BatchNorm2dLayerOptions } from './batchnorm.js';
export { ReLU, LeakyReLU, Tanh, Sigmoid, Softmax } from './activation.js';
export { Sequential } from './sequential.js';
export { Residual } from './residual.js';
export { moduleFromConfig, registerModuleType, type ModuleFactory } from './config.js';
export type { WeightInit } from './weights.js';
