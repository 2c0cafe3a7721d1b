// Turns a generated case (plain data) into a call of the public API: fresh input tensors made
// from the case's data spec, and the op applied to them. The same case gives the same tensors
// every time, so each backend (and the sync and async forms) sees identical inputs.
import {
  avgPool2d, bceWithLogits, conv2d, conv2dAsync, crossEntropy, gemm, gemmAsync, globalAvgPool2d, globalMaxPool2d,
  leakyRelu, linear, logSoftmax, matmul, matmulAsync, maxPool2d, maxPool2dAsync, mseLoss, nllLoss, relu, sigmoid,
  softmax, tanh, tensor, Tensor, add, sub, mul, div, sum, mean, clamp,
} from '../../lib/index.js';
import { randData, rng } from '../helpers.js';
import type { BadTensor, DataSpec, OpCase } from './arbitraries.js';

export interface Call {
  /** Fresh inputs; those with requiresGrad get gradients compared. */
  inputs: () => Tensor[];
  forward: (inputs: Tensor[]) => Tensor;
  /** The async form of the op, where there is one (conv2dAsync, gemmAsync, ...). */
  forwardAsync?: (inputs: Tensor[]) => Promise<Tensor>;
  /** The longest sum in forward or backward, to scale the comparison's tolerance (as tests/op-cases.ts does). */
  reduction: number;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Tensors of the given shapes from one data spec; the k-th from seed + k. */
export function makeTensors(spec: DataSpec, shapes: number[][], requiresGrad = true): Tensor[] {
  return shapes.map((s, k) => tensor(randData(rng(spec.seed + k), numel(s), spec.scale), s, { requiresGrad }));
}

/** Rows of positive class probabilities summing to 1. */
function probabilities(seed: number, n: number, c: number): Tensor {
  const r = rng(seed);
  const d = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += d[i * c + j] = r() + 0.05;
    for (let j = 0; j < c; j++) d[i * c + j] /= s;
  }
  return tensor(d, [n, c]);
}

/** Targets in [0, 1] for bceWithLogits. */
function unitTensor(seed: number, shape: number[]): Tensor {
  const r = rng(seed);
  return tensor(Float32Array.from({ length: numel(shape) }, () => r()), shape, { requiresGrad: true });
}

const ARITH = { add, sub, mul, div };

export function opCall(c: OpCase): Call {
  switch (c.op) {
    case 'add': case 'sub': case 'mul': case 'div': {
      const shapes = [c.a, c.b].filter((s): s is number[] => s !== null);
      const out = Math.max(...shapes.map(numel));
      return {
        inputs: () => makeTensors(c.data, shapes),
        forward: (t) => {
          const a = c.a ? t[0] : c.scalar;
          const b = c.b ? t[c.a ? 1 : 0] : c.scalar;
          return ARITH[c.op](a, b);
        },
        reduction: Math.max(1, ...shapes.map((s) => out / Math.max(1, numel(s)))),
      };
    }
    case 'sum': case 'mean': {
      const f = c.op === 'sum' ? sum : mean;
      return { inputs: () => makeTensors(c.data, [c.x]), forward: ([x]) => f(x, c.axes, c.keepDims), reduction: Math.max(1, numel(c.x)) };
    }
    case 'clamp':
      return { inputs: () => makeTensors(c.data, [c.x]), forward: ([x]) => clamp(x, c.min, c.max), reduction: 1 };
    case 'conv2d': {
      const shapes = c.bias ? [c.x, c.w, [c.w[0]]] : [c.x, c.w];
      return {
        inputs: () => makeTensors(c.data, shapes),
        forward: ([x, w, b]) => conv2d(x, w, b ?? null, c.opts),
        forwardAsync: ([x, w, b]) => conv2dAsync(x, w, b ?? null, c.opts),
        reduction: Math.max(c.w[1] * c.w[2] * c.w[3], c.x[0] * c.x[2] * c.x[3]),
      };
    }
    case 'maxPool2d':
      return {
        inputs: () => makeTensors(c.data, [c.x]),
        forward: ([x]) => maxPool2d(x, c.kernel, c.opts),
        forwardAsync: ([x]) => maxPool2dAsync(x, c.kernel, c.opts),
        reduction: numel(typeof c.kernel === 'number' ? [c.kernel, c.kernel] : c.kernel),
      };
    case 'avgPool2d':
      return {
        inputs: () => makeTensors(c.data, [c.x]),
        forward: ([x]) => avgPool2d(x, c.kernel, c.opts),
        reduction: numel(typeof c.kernel === 'number' ? [c.kernel, c.kernel] : c.kernel),
      };
    case 'globalMaxPool2d':
    case 'globalAvgPool2d':
      return {
        inputs: () => makeTensors(c.data, [c.x]),
        forward: ([x]) => (c.op === 'globalMaxPool2d' ? globalMaxPool2d(x) : globalAvgPool2d(x)),
        reduction: c.x[2] * c.x[3],
      };
    case 'gemm': {
      const shapes = c.c ? [c.a, c.b, c.c] : [c.a, c.b];
      return {
        inputs: () => makeTensors(c.data, shapes),
        forward: ([a, b, cc]) => gemm(a, b, cc ?? null, c.opts),
        forwardAsync: ([a, b, cc]) => gemmAsync(a, b, cc ?? null, c.opts),
        reduction: Math.max(...c.a, ...c.b),
      };
    }
    case 'linear': {
      const shapes = c.bias ? [c.x, c.w, [c.w[0]]] : [c.x, c.w];
      return {
        inputs: () => makeTensors(c.data, shapes),
        forward: ([x, w, b]) => linear(x, w, b ?? null),
        reduction: Math.max(c.x[0], c.x[1]),
      };
    }
    case 'matmul':
      return {
        inputs: () => makeTensors(c.data, [c.a, c.b]),
        forward: ([a, b]) => matmul(a, b),
        forwardAsync: ([a, b]) => matmulAsync(a, b),
        reduction: Math.max(...c.a, ...c.b, 8) * 4, // the batch sums of broadcast gradients too
      };
    case 'relu':
    case 'leakyRelu':
    case 'sigmoid':
    case 'tanh':
    case 'softmax':
    case 'logSoftmax': {
      const ops = {
        relu: (x: Tensor) => relu(x),
        leakyRelu: (x: Tensor) => (c.slope === undefined ? leakyRelu(x) : leakyRelu(x, c.slope)),
        sigmoid: (x: Tensor) => sigmoid(x),
        tanh: (x: Tensor) => tanh(x),
        softmax: (x: Tensor) => (c.axis === undefined ? softmax(x) : softmax(x, c.axis)),
        logSoftmax: (x: Tensor) => (c.axis === undefined ? logSoftmax(x) : logSoftmax(x, c.axis)),
      };
      const axisLen = c.axis === undefined ? 1 : c.x[c.axis < 0 ? c.axis + c.x.length : c.axis] ?? 1;
      return { inputs: () => makeTensors(c.data, [c.x]), forward: ([x]) => ops[c.op](x), reduction: axisLen };
    }
    case 'crossEntropy':
    case 'crossEntropyProbs':
    case 'nllLoss':
    case 'mseLoss':
    case 'bceWithLogits': {
      const reduction = c.reduction === undefined ? {} : { reduction: c.reduction };
      const smoothing = c.labelSmoothing === undefined ? {} : { labelSmoothing: c.labelSmoothing };
      const [n, classes] = c.x;
      const last = c.x[c.x.length - 1];
      const posWeight = c.posWeight ? tensor(Float32Array.from({ length: last }, (_, k) => 0.5 + (k % 3)), [last]) : null;
      const calls = {
        crossEntropy: { inputs: () => makeTensors(c.data, [c.x]), forward: ([x]: Tensor[]) => crossEntropy(x, c.labels, { ...reduction, ...smoothing }) },
        crossEntropyProbs: {
          inputs: () => [...makeTensors(c.data, [c.x]), probabilities(c.data.seed + 1, n, classes)],
          forward: ([x, p]: Tensor[]) => crossEntropy(x, p, { ...reduction, ...smoothing }),
        },
        nllLoss: { inputs: () => makeTensors(c.data, [c.x]), forward: ([x]: Tensor[]) => nllLoss(x, c.labels, reduction) },
        mseLoss: { inputs: () => makeTensors(c.data, [c.x, c.x]), forward: ([a, b]: Tensor[]) => mseLoss(a, b, reduction) },
        bceWithLogits: {
          inputs: () => [...makeTensors(c.data, [c.x]), unitTensor(c.data.seed + 1, c.x)],
          forward: ([x, t]: Tensor[]) => bceWithLogits(x, t, { ...reduction, posWeight }),
        },
      };
      return { ...calls[c.op], reduction: numel(c.x) };
    }
  }
}

/** A disposed or detached tensor, or one of the wrong rank, as described by a generated BadTensor. */
export function badTensorValue(b: BadTensor): unknown {
  const t = tensor(new Float32Array(numel(b.shape)), b.shape);
  if (b.badTensor === 'disposed') t.dispose();
  else if (b.badTensor === 'detached') structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
  else return tensor(new Float32Array(numel(b.shape)), [...b.shape, 1, 1, 1]); // three dimensions too many
  return t;
}
