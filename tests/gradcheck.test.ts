// Tape gradients of every op against float64 central differences, on every backend.
import { describe, it } from 'vitest';
import {
  add, avgPool2d, clamp, concat, conv2d, crossEntropy, div, flatten, gemm, globalAvgPool2d, globalMaxPool2d,
  leakyRelu, linear, logSoftmax, matmul, maxPool2d, mean, mul, permute, relu, reshape, sigmoid, slice,
  softmax, split, sub, sum, tanh, tensor, transpose,
} from '../lib/index.js';
import type { Tensor } from '../lib/index.js';
import { backends, distinctData, gradcheck, randTensor, rng, withBackend } from './helpers.js';

type Check = [label: string, makeInputs: () => Tensor[], f: (t: Tensor[]) => Tensor];

function rand(seed: number, ...shapes: number[][]): () => Tensor[] {
  return () => {
    const r = rng(seed);
    return shapes.map((s) => randTensor(r, s, true));
  };
}

/** Distinct values (gaps of 0.05 >> eps), away from zero: max and relu stay differentiable. */
function distinct(seed: number, shape: number[]): () => Tensor[] {
  return () => [tensor(distinctData(rng(seed), shape.reduce((a, b) => a * b, 1), 0.05, true), shape, { requiresGrad: true })];
}

/** Values of either sign at least 0.5 from zero, for divisors. */
function awayFromZero(seed: number, shape: number[]): Tensor {
  const t = randTensor(rng(seed), shape, true);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.sign(d[i] || 1) * (0.5 + Math.abs(d[i]));
  return t;
}

const checks: Check[] = [
  ['conv2d plain + bias', rand(1, [2, 2, 5, 5], [3, 2, 3, 3], [3]), ([x, w, b]) => conv2d(x, w, b)],
  ['conv2d stride 2, asymmetric padding', rand(2, [1, 2, 6, 7], [2, 2, 3, 2], [2]), ([x, w, b]) => conv2d(x, w, b, { stride: [2, 1], padding: [1, 0, 2, 1] })],
  ['conv2d dilation 2, same', rand(3, [1, 1, 7, 6], [2, 1, 3, 3]), ([x, w]) => conv2d(x, w, null, { dilation: 2, padding: 'same' })],
  ['conv2d groups 2, stride 2 same', rand(4, [2, 4, 5, 5], [4, 2, 2, 2], [4]), ([x, w, b]) => conv2d(x, w, b, { groups: 2, stride: 2, padding: 'same' })],
  ['conv2d depthwise 1x1', rand(5, [1, 3, 4, 4], [3, 1, 1, 1]), ([x, w]) => conv2d(x, w, null, { groups: 3 })],
  ['maxPool2d 2x2', distinct(6, [1, 2, 4, 4]), ([x]) => maxPool2d(x, 2)],
  ['maxPool2d overlapping, padding, ceil', distinct(7, [2, 1, 5, 6]), ([x]) => maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true })],
  ['maxPool2d dilation', distinct(8, [1, 2, 6, 6]), ([x]) => maxPool2d(x, [2, 3], { stride: 1, dilation: [2, 1] })],
  ['avgPool2d count pad', rand(9, [1, 2, 5, 5]), ([x]) => avgPool2d(x, 3, { stride: 2, padding: 1 })],
  ['avgPool2d exclude pad, ceil', rand(10, [2, 1, 5, 6]), ([x]) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false })],
  ['avgPool2d same', rand(11, [1, 2, 5, 4]), ([x]) => avgPool2d(x, 2, { stride: 1, padding: 'same' })],
  ['globalAvgPool2d', rand(12, [2, 3, 3, 4]), ([x]) => globalAvgPool2d(x)],
  ['globalMaxPool2d', distinct(13, [2, 3, 3, 4]), ([x]) => globalMaxPool2d(x)],
  ['gemm', rand(14, [3, 4], [4, 5]), ([a, b]) => gemm(a, b)],
  ['gemm transA transB alpha', rand(15, [4, 3], [5, 4]), ([a, b]) => gemm(a, b, null, { transA: true, transB: true, alpha: 0.5 })],
  ['gemm transA, c [N] beta', rand(16, [4, 3], [4, 5], [5]), ([a, b, c]) => gemm(a, b, c, { transA: true, beta: 0.5 })],
  ['gemm transB, c [M,1]', rand(17, [3, 4], [5, 4], [3, 1]), ([a, b, c]) => gemm(a, b, c, { transB: true })],
  ['gemm c [] and [M,N]', rand(18, [2, 3], [3, 2], []), ([a, b, c]) => gemm(a, b, c, { beta: 2 })],
  ['gemm c [M,N]', rand(19, [2, 3], [3, 2], [2, 2]), ([a, b, c]) => gemm(a, b, c)],
  ['matmul 2-d', rand(20, [3, 4], [4, 2]), ([a, b]) => matmul(a, b)],
  ['matmul 1-d x 2-d', rand(21, [4], [4, 3]), ([a, b]) => matmul(a, b)],
  ['matmul 2-d x 1-d', rand(22, [3, 4], [4]), ([a, b]) => matmul(a, b)],
  ['matmul dot', rand(23, [5], [5]), ([a, b]) => matmul(a, b)],
  ['matmul batched broadcast', rand(24, [2, 1, 3, 4], [3, 4, 2]), ([a, b]) => matmul(a, b)],
  ['matmul batched x 2-d (folded)', rand(25, [3, 2, 4], [4, 3]), ([a, b]) => matmul(a, b)],
  ['matmul shared a', rand(26, [3, 4], [2, 4, 2]), ([a, b]) => matmul(a, b)],
  ['matmul with itself', rand(27, [3, 3]), ([a]) => matmul(a, a)],
  ['linear', rand(28, [4, 5], [3, 5], [3]), ([x, w, b]) => linear(x, w, b)],
  ['linear no bias', rand(29, [2, 3], [4, 3]), ([x, w]) => linear(x, w)],
  ['relu', distinct(30, [3, 7]), ([x]) => relu(x)],
  ['leakyRelu', distinct(31, [2, 9]), ([x]) => leakyRelu(x)],
  ['leakyRelu slope 0.3', distinct(32, [11]), ([x]) => leakyRelu(x, 0.3)],
  ['sigmoid', rand(33, [2, 3, 2]), ([x]) => sigmoid(x)],
  ['tanh', rand(34, [5]), ([x]) => tanh(x)],
  ['softmax last axis', rand(35, [3, 5]), ([x]) => softmax(x)],
  ['softmax middle axis', rand(36, [2, 4, 3]), ([x]) => softmax(x, 1)],
  ['softmax axis 0', rand(37, [4, 3]), ([x]) => softmax(x, 0)],
  ['logSoftmax last axis', rand(38, [3, 5]), ([x]) => logSoftmax(x)],
  ['logSoftmax axis -3', rand(39, [3, 2, 2]), ([x]) => logSoftmax(x, -3)],
  ['reshape', rand(40, [2, 6]), ([x]) => tanh(reshape(x, [3, -1]))],
  ['flatten', rand(41, [2, 2, 3]), ([x]) => sigmoid(flatten(x))],
  ['crossEntropy', rand(42, [4, 5]), ([x]) => crossEntropy(x, [0, 4, 2, 2])],
  ['crossEntropy one class', rand(43, [2, 1]), ([x]) => crossEntropy(x, [0, 0])],
  ['add, both sides broadcast', rand(60, [3, 1, 4], [2, 1]), ([a, b]) => add(a, b)],
  ['add per-channel bias', rand(61, [2, 3, 2, 2], [3, 1, 1]), ([a, b]) => add(a, b)],
  ['add rank 0 + [3]', rand(62, [], [3]), ([a, b]) => add(a, b)],
  ['add the same tensor twice', rand(63, [2, 3]), ([a]) => add(a, a)],
  ['sub, both sides broadcast', rand(64, [2, 1, 3], [4, 1]), ([a, b]) => sub(a, b)],
  ['sub from a number', rand(65, [2, 3]), ([a]) => sub(2, a)],
  ['mul, both sides broadcast', rand(66, [2, 1, 3], [4, 1]), ([a, b]) => mul(a, b)],
  ['mul [1] x [5]', rand(67, [1], [5]), ([a, b]) => mul(a, b)],
  ['mul by a number and by itself', rand(68, [3, 2]), ([a]) => mul(mul(a, -1.5), a)],
  ['div, both sides broadcast', () => [randTensor(rng(69), [3, 1], true), awayFromZero(70, [1, 4])], ([a, b]) => div(a, b)],
  ['div per-channel', () => [randTensor(rng(71), [2, 3, 2, 2], true), awayFromZero(72, [3, 1, 1])], ([a, b]) => div(a, b)],
  ['div a number by a tensor', () => [awayFromZero(73, [2, 3])], ([b]) => div(1.5, b)],
  ['div by a number', rand(74, [4]), ([a]) => div(a, 3)],
  ['sum all', rand(75, [2, 3, 4]), ([x]) => sum(x)],
  ['sum axes [0, 2] keepDims', rand(76, [2, 3, 4]), ([x]) => sum(x, [0, 2], true)],
  ['sum axis -1', rand(77, [3, 5]), ([x]) => sum(x, -1)],
  ['mean all', rand(78, [2, 3]), ([x]) => mean(x)],
  ['mean axes [1, 3] of NCHW', rand(79, [2, 3, 2, 3]), ([x]) => mean(x, [1, 3])],
  ['mean axis 0 keepDims', rand(80, [4, 3]), ([x]) => mean(x, 0, true)],
  ['clamp both bounds', distinct(81, [4, 5]), ([x]) => clamp(x, -0.1, 0.1)],
  ['clamp min only', distinct(82, [11]), ([x]) => clamp(x, 0)],
  ['clamp max only', distinct(83, [2, 6]), ([x]) => clamp(x, undefined, 0.2)],
  ['broadcast chain: (x - mean) / sum^2', rand(84, [3, 4]), ([x]) => div(sub(x, mean(x, 1, true)), add(mul(sum(x, 0), sum(x, 0)), 1))],
  ['permute', rand(45, [2, 3, 4]), ([x]) => tanh(permute(x, [2, 0, 1]))],
  ['permute rank 5, negative dims', rand(46, [2, 1, 3, 2, 2]), ([x]) => sigmoid(permute(x, [-1, 0, -3, 1, -2]))],
  ['transpose', rand(47, [3, 5]), ([x]) => matmul(transpose(x, 0, 1), x)],
  ['concat with itself and an empty piece', rand(48, [2, 3], [2, 0], [2, 2]), ([a, e, b]) => tanh(concat([a, e, b, a], 1))],
  ['concat axis 0, one input without grad', rand(49, [1, 4], [3, 4]), ([a, b]) => {
    b.requiresGrad = false;
    return sigmoid(concat([b, a], 0));
  }],
  ['split by chunk size', rand(50, [5, 3]), ([x]) => {
    const [a, b, c] = split(x, 2, 0);
    return concat([tanh(c), sigmoid(a), b], 0);
  }],
  ['split by sizes, a piece unused', rand(51, [2, 7]), ([x]) => {
    const [a, , c] = split(x, [3, 0, 2, 2], 1).filter((_, i) => i !== 1);
    return concat([tanh(a), c], 1);
  }],
  ['split pieces used twice', rand(52, [4, 2]), ([x]) => {
    const [a, b] = split(x, [1, 3]);
    return concat([tanh(b), a, sigmoid(a)], 0);
  }],
  ['slice step 2', rand(53, [3, 7]), ([x]) => tanh(slice(x, 1, 1, 7, 2))],
  ['slice negative step, clamped', rand(54, [6, 2]), ([x]) => sigmoid(slice(x, 0, 100, -100, -2))],
  ['slice INT64 max end, and x used again', rand(55, [4, 3]), ([x]) => concat([slice(x, 0, -3, 2 ** 63 - 1), tanh(x)], 0)],
  ['LeNet-like chain', rand(44, [2, 1, 8, 8], [3, 1, 3, 3], [3], [4, 27], [4]),
    ([x, w, b, fw, fb]) => crossEntropy(linear(flatten(maxPool2d(tanh(conv2d(x, w, b)), 2)), fw, fb), [1, 3])],
];

for (const backend of backends) {
  describe(`gradcheck on ${backend}`, () => {
    it.each(checks)('%s', (label, makeInputs, f) => {
      withBackend(backend, () => gradcheck(label, makeInputs(), f));
    });
    it('fails for a wrong gradient (the check is not vacuous)', () => {
      // The forward of a 2x scaled relu with the gradient of relu must not pass.
      const inputs = distinct(50, [8])();
      let threw = false;
      try {
        withBackend(backend, () => gradcheck('scaled', inputs, ([x]) => {
          const y = relu(x);
          for (let i = 0; i < y.data.length; i++) y.data[i] *= 2; // gradient not scaled
          return y;
        }));
      } catch {
        threw = true;
      }
      if (!threw) throw new Error('gradcheck accepted a wrong gradient');
    });
  });
}
