// A tensor whose ArrayBuffer was transferred away (postMessage, structuredClone) reads as empty:
// every op must reject it with a TypeError naming the argument, not compute on nothing (found
// by the fuzzer, issue 17: the js backend returned NaN, relu returned zeros on every backend).
import { describe, expect, it } from 'vitest';
import { conv2d, crossEntropy, gemm, matmul, maxPool2d, mseLoss, relu, softmax, tensor, type Tensor } from '../lib/index.js';
import { backends, withBackend } from './helpers.js';

function detached(shape: number[]): Tensor {
  const t = tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
  structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
  return t;
}

const ones = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);

const cases: Array<[string, () => unknown, RegExp]> = [
  ['conv2d input', () => conv2d(detached([1, 1, 3, 3]), ones([1, 1, 1, 1])), /^conv2d: input \[1,1,3,3\] lost its data/],
  ['conv2d bias', () => conv2d(ones([1, 1, 2, 2]), ones([1, 1, 1, 1]), detached([1])), /^conv2d: bias \[1\] lost its data/],
  ['gemm a', () => gemm(detached([2, 2]), ones([2, 2])), /^gemm: a \[2,2\] lost its data/],
  ['gemm c', () => gemm(ones([2, 2]), ones([2, 2]), detached([2, 2])), /^gemm: c \[2,2\] lost its data/],
  ['matmul b', () => matmul(ones([2, 2]), detached([2, 2])), /^matmul: b \[2,2\] lost its data/],
  ['maxPool2d', () => maxPool2d(detached([1, 1, 4, 4]), 2), /^maxPool2d: input \[1,1,4,4\] lost its data/],
  ['relu (native from 256 elements)', () => relu(detached([1000])), /^relu: x \[1000\] lost its data/],
  ['softmax', () => softmax(detached([2, 3])), /^softmax: x \[2,3\] lost its data/],
  ['mseLoss target', () => mseLoss(ones([2]), detached([2])), /^mseLoss: target \[2\] lost its data/],
  ['crossEntropy probabilities', () => crossEntropy(ones([2, 3]), detached([2, 3])), /^crossEntropy: target \[2,3\] lost its data/],
];

describe.each(backends)('a detached input on %s', (backend) => {
  it.each(cases)('%s: TypeError', (_name, run, message) => {
    withBackend(backend, () => {
      expect(run).toThrow(TypeError);
      expect(run).toThrow(message);
    });
  });
});
