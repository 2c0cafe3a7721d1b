// The node handlers by op type: what importOnnx supports (docs/ARCHITECTURE.md lists them).
import type { Handler } from './handler.js';
import { averagePool, conv, globalAveragePool, globalMaxPool, maxPool } from './ops-conv-pool.js';
import { clip, leakyRelu, logSoftmaxOp, relu, sigmoid, softmaxOp, tanh } from './ops-activation.js';
import { addOp, divOp, mulOp, subOp } from './ops-elementwise.js';
import { cast, constant, dropout, flattenOp, gather, identity, reshapeOp, shape, squeeze, unsqueeze } from './ops-shape.js';
import { concatOp, sliceOp, splitOp, transpose } from './ops-layout.js';
import { reduceMean, reduceSum } from './ops-reduce.js';
import { gemmOp, matMul } from './ops-linear.js';
import { batchNormalization } from './ops-norm.js';

export const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['Conv', conv], ['MaxPool', maxPool], ['AveragePool', averagePool],
  ['GlobalAveragePool', globalAveragePool], ['GlobalMaxPool', globalMaxPool],
  ['Gemm', gemmOp], ['MatMul', matMul],
  ['Add', addOp], ['Sub', subOp], ['Mul', mulOp], ['Div', divOp],
  ['Relu', relu], ['LeakyRelu', leakyRelu], ['Sigmoid', sigmoid], ['Tanh', tanh], ['Clip', clip],
  ['Softmax', softmaxOp], ['LogSoftmax', logSoftmaxOp],
  ['Flatten', flattenOp], ['Reshape', reshapeOp], ['Transpose', transpose], ['Concat', concatOp],
  ['Split', splitOp], ['Slice', sliceOp], ['Squeeze', squeeze], ['Unsqueeze', unsqueeze],
  ['Shape', shape], ['Gather', gather], ['Cast', cast], ['Constant', constant],
  ['ReduceMean', reduceMean], ['ReduceSum', reduceSum],
  ['BatchNormalization', batchNormalization], ['Dropout', dropout], ['Identity', identity],
]);

/** The opsets whose op semantics the handlers follow (the ones torch.onnx.export writes, and a margin). */
export const MIN_IMPORT_OPSET = 7;
export const MAX_IMPORT_OPSET = 18;
