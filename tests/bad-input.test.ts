// Bad input: the right error class, a message that starts with the op and names the
// argument, before any kernel runs; and NaN in data propagates through every op.
import { describe, expect, it } from 'vitest';
import {
  avgPool2d, conv2d, crossEntropy, flatten, gemm, globalAvgPool2d, globalMaxPool2d, leakyRelu, linear,
  logSoftmax, matmul, maxPool2d, noGrad, relu, reshape, setBackend, setNumThreads, sigmoid, softmax, tanh,
  tensor, Tensor, dropout, Generator, nllLoss, nn, parseSpec, predict, mseLoss, add, sub, mul, div, clamp,
  sum, mean, permute, transpose, concat, split, slice, argmax,
} from '../lib/index.js';
import type { BackendName } from '../lib/index.js';
import { backends, randTensor, rng, withBackend } from './helpers.js';

const r = rng(3);
const x4 = randTensor(r, [2, 3, 32, 32]);
const w4 = randTensor(r, [6, 1, 5, 5]);
const small = randTensor(r, [1, 1, 5, 5]);
const m23 = randTensor(r, [2, 3]);
const m34 = randTensor(r, [3, 4]);
const logits = randTensor(r, [3, 4]);
const any = (v: unknown) => v as never;

type Case = [name: string, fn: () => unknown, cls: typeof TypeError | typeof RangeError, message: RegExp];

/** A tensor of shape whose ArrayBuffer was transferred away, as postMessage(buf, [buf]) does. */
function detached(shape: number[]): Tensor {
  const t = randTensor(r, shape);
  structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
  return t;
}

function detachedCases(): Case[] {
  const lost = (op: string, name: string) => new RegExp(`^${op}: (${name}|the tensor) \\[[0-9,]+\\] lost its data: its ArrayBuffer was detached`);
  const x = () => detached([1, 1, 4, 4]);
  const ops: Array<[string, string, () => unknown]> = [
    ['conv2d', 'input', () => conv2d(x(), randTensor(r, [1, 1, 3, 3]))],
    ['conv2d', 'weight', () => conv2d(randTensor(r, [1, 1, 4, 4]), detached([1, 1, 3, 3]))],
    ['maxPool2d', 'input', () => maxPool2d(x(), 2)],
    ['avgPool2d', 'input', () => avgPool2d(x(), 2)],
    ['globalMaxPool2d', 'input', () => globalMaxPool2d(x())],
    ['gemm', 'b', () => gemm(m23, detached([3, 4]))],
    ['matmul', 'a', () => matmul(detached([2, 3]), m34)],
    ['linear', 'x', () => linear(detached([2, 3]), randTensor(r, [4, 3]))],
    ['relu', 'x', () => relu(x())],
    ['sigmoid', 'x', () => sigmoid(x())],
    ['softmax', 'x', () => softmax(detached([2, 3]))],
    ['reshape', 'x', () => reshape(x(), [16])],
    ['flatten', 'x', () => flatten(x())],
    ['crossEntropy', 'logits', () => crossEntropy(detached([3, 4]), [0, 1, 2])],
    ['dropout', 'x', () => dropout(x(), 0.5)],
    ['conv2d', 'bias', () => conv2d(randTensor(r, [1, 1, 2, 2]), randTensor(r, [1, 1, 1, 1]), detached([1]))],
    ['gemm', 'c', () => gemm(m23, m34, detached([2, 4]))],
    ['matmul', 'b', () => matmul(m23, detached([3, 4]))],
    ['relu', 'x', () => relu(detached([1000]))], // native from 256 elements
    ['mseLoss', 'target', () => mseLoss(randTensor(r, [2]), detached([2]))],
    ['permute', 'x', () => permute(detached([2, 3]), [1, 0])],
    ['concat', 'tensors\\[1\\]', () => concat([m23, detached([2, 3])])],
    ['slice', 'x', () => slice(detached([4]), 0, 1, 3)],
    ['argmax', 'x', () => argmax(detached([4]))],
    ['crossEntropy', 'target', () => crossEntropy(randTensor(r, [2, 3]), detached([2, 3]))],
  ];
  return ops.map(([op, name, fn]) => [`${op}: detached ${name}`, fn, TypeError, lost(op, name)]);
}

const cases: Case[] = [
  // tensor()
  ['tensor: data null', () => tensor(any(null), [1]), TypeError, /^tensor: data must be an array-like/],
  ['tensor: data number', () => tensor(any(5), [1]), TypeError, /^tensor: data must be an array-like/],
  ['tensor: data string', () => tensor(any('abc'), [3]), TypeError, /^tensor: data must be an array-like/],
  ['tensor: data element not a number', () => tensor(any([1, 'x']), [2]), TypeError, /^tensor: data\[1\] must be a number, got string/],
  ['tensor: nested arrays', () => tensor(any([[1, 2], [3, 4]]), [2, 2]), TypeError, /^tensor: data\[0\] must be a number, got array.*flatten nested arrays/],
  ['tensor: size mismatch', () => tensor([1, 2, 3, 4, 5], [2, 3]), RangeError, /^tensor: data has 5 elements but shape \[2,3\] needs 6$/],
  ['tensor: fractional dim', () => tensor([1, 2], [2, 2.5]), RangeError, /^tensor: shape\[1\] must be a non-negative integer, got 2\.5$/],
  ['tensor: negative dim', () => tensor([], [-1]), RangeError, /^tensor: shape\[0\] must be a non-negative integer, got -1$/],
  ['tensor: shape not an array', () => tensor([1], any(1)), TypeError, /^tensor: shape must be an array/],
  ['tensor: shape entry a string', () => tensor([1], any(['1'])), TypeError, /^tensor: shape\[0\] must be a number/],
  ['tensor: absurd shape', () => tensor([], [100000, 100000, 100000]), RangeError,
    /^tensor: shape \[100000,100000,100000\] has 1e15 elements, more than the limit 2\^31-1$/],
  ['tensor: requiresGrad not boolean', () => tensor([1], [1], any({ requiresGrad: 'yes' })), TypeError, /^tensor: opts\.requiresGrad/],
  // conv2d
  ['conv2d: input not a tensor', () => conv2d(any([1, 2]), w4), TypeError, /^conv2d: input must be a Tensor, got array/],
  ['conv2d: weight not a tensor', () => conv2d(x4, any(null)), TypeError, /^conv2d: weight must be a Tensor/],
  ['conv2d: input 3-d', () => conv2d(randTensor(r, [3, 8, 8]), w4), RangeError, /^conv2d: input must be 4-d \(NCHW\), got shape \[3,8,8\]/],
  ['conv2d: channel mismatch', () => conv2d(x4, w4), RangeError,
    /^conv2d: input has 3 channels but weight expects 1 \(input \[2,3,32,32\], weight \[6,1,5,5\]\)$/],
  ['conv2d: stride 0', () => conv2d(small, small, null, { stride: 0 }), RangeError, /^conv2d: stride must be a positive integer, got 0$/],
  ['conv2d: stride string', () => conv2d(small, small, null, { stride: any('2') }), TypeError, /^conv2d: stride must be a number or \[h, w\]/],
  ['conv2d: stride [1]', () => conv2d(small, small, null, { stride: any([1]) }), TypeError, /^conv2d: stride must be a number or \[h, w\]/],
  ['conv2d: stride[1] fractional', () => conv2d(small, small, null, { stride: [1, 1.5] }), RangeError, /^conv2d: stride\[1\] must be a positive integer, got 1\.5/],
  ['conv2d: padding negative', () => conv2d(small, small, null, { padding: -1 }), RangeError, /^conv2d: padding must be a non-negative integer, got -1/],
  ['conv2d: padding string', () => conv2d(small, small, null, { padding: any('full') }), RangeError, /^conv2d: padding must be 'same' or 'valid'/],
  ['conv2d: padding 3 entries', () => conv2d(small, small, null, { padding: any([1, 1, 1]) }), TypeError, /^conv2d: padding must be/],
  ['conv2d: dilation NaN', () => conv2d(small, small, null, { dilation: NaN }), RangeError, /^conv2d: dilation must be a positive integer, got NaN/],
  ['conv2d: groups 0', () => conv2d(small, small, null, { groups: 0 }), RangeError, /^conv2d: groups must be a positive integer, got 0/],
  ['conv2d: groups do not divide', () => conv2d(x4, randTensor(r, [6, 1, 3, 3]), null, { groups: 2 }), RangeError, /^conv2d: input channels 3 are not divisible by groups 2/],
  ['conv2d: out channels vs groups', () => conv2d(x4, randTensor(r, [5, 1, 3, 3]), null, { groups: 3 }), RangeError, /^conv2d: weight has 5 output channels, not divisible by groups 3/],
  ['conv2d: bias shape', () => conv2d(small, small, randTensor(r, [2])), RangeError, /^conv2d: bias must have shape \[1\], got \[2\]/],
  ['conv2d: bias not a tensor', () => conv2d(small, small, any({ stride: 2 })), TypeError, /^conv2d: bias must be a Tensor/],
  ['conv2d: kernel larger than input', () => conv2d(small, randTensor(r, [1, 1, 7, 7])), RangeError, /^conv2d: kernel 7x7 is larger than the padded input 5x5/],
  ['conv2d: dilated kernel too large', () => conv2d(small, randTensor(r, [1, 1, 3, 3]), null, { dilation: 3 }), RangeError, /^conv2d: dilated kernel 7x7 \(kernel 3x3, dilation 3x3\)/],
  ['conv2d: unknown option', () => conv2d(small, small, null, any({ strides: 2 })), TypeError, /^conv2d: unknown option 'strides'/],
  ['conv2d: options not an object', () => conv2d(small, small, null, any(3)), TypeError, /^conv2d: options must be an object/],
  ['conv2d: terabyte output', () => conv2d(tensor([1], [1, 1, 1, 1]), tensor([1], [1, 1, 1, 1]), null, { padding: 50000 }), RangeError,
    /^conv2d: output shape \[1,1,100001,100001\] has 1\.?0*e10 elements, more than the limit 2\^31-1$/],
  // pools
  ['maxPool2d: kernel larger than input', () => maxPool2d(small, 7), RangeError,
    /^maxPool2d: kernel 7x7 is larger than the padded input 5x5 \(input \[1,1,5,5\], padding 0\)$/],
  ['maxPool2d: kernel 0', () => maxPool2d(small, 0), RangeError, /^maxPool2d: kernel must be a positive integer, got 0/],
  ['maxPool2d: kernel missing', () => maxPool2d(small, any(undefined)), TypeError, /^maxPool2d: kernel must be a number or \[h, w\]/],
  ['maxPool2d: padding over half kernel', () => maxPool2d(small, 3, { padding: 2 }), RangeError, /^maxPool2d: padding 2 is more than half the 3x3 kernel/],
  ['maxPool2d: asymmetric padding over half', () => maxPool2d(small, 2, { padding: [0, 0, 2, 0] }), RangeError, /^maxPool2d: padding \[0,0,2,0\]/],
  ['maxPool2d: ceilMode not boolean', () => maxPool2d(small, 2, { ceilMode: any(1) }), TypeError, /^maxPool2d: ceilMode must be a boolean, got 1/],
  ['maxPool2d: input 2-d', () => maxPool2d(m23, 2), RangeError, /^maxPool2d: input must be 4-d/],
  ['maxPool2d: stride 0', () => maxPool2d(small, 2, { stride: 0 }), RangeError, /^maxPool2d: stride must be a positive integer, got 0/],
  ['avgPool2d: dilation is not an option', () => avgPool2d(small, 2, any({ dilation: 2 })), TypeError, /^avgPool2d: unknown option 'dilation'/],
  ['avgPool2d: countIncludePad not boolean', () => avgPool2d(small, 2, { countIncludePad: any('no') }), TypeError, /^avgPool2d: countIncludePad must be a boolean/],
  ['avgPool2d: kernel larger', () => avgPool2d(small, [2, 6]), RangeError, /^avgPool2d: kernel 2x6 is larger than the padded input 5x5/],
  ['globalAvgPool2d: not a tensor', () => globalAvgPool2d(any(3)), TypeError, /^globalAvgPool2d: input must be a Tensor/],
  ['globalMaxPool2d: 3-d', () => globalMaxPool2d(randTensor(r, [1, 2, 2])), RangeError, /^globalMaxPool2d: input must be 4-d/],
  // gemm / matmul / linear
  ['gemm: inner mismatch', () => gemm(m23, m23), RangeError, /^gemm: inner dimensions differ: op\(a\) is 2x3 but op\(b\) is 2x3 \(a \[2,3\], b \[2,3\]/],
  ['gemm: a 3-d', () => gemm(randTensor(r, [1, 2, 3]), m34), RangeError, /^gemm: a must be 2-d, got shape \[1,2,3\]/],
  ['gemm: b not a tensor', () => gemm(m23, any([1])), TypeError, /^gemm: b must be a Tensor/],
  ['gemm: c does not broadcast', () => gemm(m23, m34, randTensor(r, [3])), RangeError, /^gemm: c of shape \[3\] does not broadcast to the result \[2,4\]/],
  ['gemm: alpha string', () => gemm(m23, m34, null, { alpha: any('2') }), TypeError, /^gemm: alpha must be a number/],
  ['gemm: beta NaN', () => gemm(m23, m34, null, { beta: NaN }), RangeError, /^gemm: beta must be finite/],
  ['gemm: transA not boolean', () => gemm(m23, m34, null, { transA: any(1) }), TypeError, /^gemm: transA must be a boolean/],
  ['matmul: inner mismatch', () => matmul(m23, m23), RangeError, /^matmul: inner dimensions differ: a has 3 columns but b has 2 rows \(a \[2,3\], b \[2,3\]\)/],
  ['matmul: batch dims', () => matmul(randTensor(r, [2, 2, 3]), randTensor(r, [3, 3, 4])), RangeError, /^matmul: batch dimensions \[2\] and \[3\] do not broadcast/],
  ['matmul: 0-d', () => matmul(tensor([1], []), m23), RangeError, /^matmul: operands must be at least 1-d/],
  ['matmul: not a tensor', () => matmul(m23, any(undefined)), TypeError, /^matmul: b must be a Tensor/],
  ['linear: features', () => linear(m23, randTensor(r, [4, 2])), RangeError, /^linear: x has 3 features but weight expects 2 \(x \[2,3\], weight \[4,2\]\)/],
  ['linear: bias', () => linear(m23, randTensor(r, [4, 3]), randTensor(r, [3])), RangeError, /^linear: bias must have shape \[4\]/],
  ['linear: x 1-d', () => linear(randTensor(r, [3]), m34), RangeError, /^linear: x must be 2-d \(\[batch, in\]\)/],
  // activations, shape ops
  ['relu: not a tensor', () => relu(any([1, 2])), TypeError, /^relu: x must be a Tensor, got array/],
  ['sigmoid: not a tensor', () => sigmoid(any(1)), TypeError, /^sigmoid: x must be a Tensor/],
  ['tanh: not a tensor', () => tanh(any(null)), TypeError, /^tanh: x must be a Tensor, got null/],
  ['leakyRelu: slope string', () => leakyRelu(m23, any('0.1')), TypeError, /^leakyRelu: slope must be a number/],
  ['leakyRelu: slope infinite', () => leakyRelu(m23, Infinity), RangeError, /^leakyRelu: slope must be finite/],
  ['softmax: axis out of range', () => softmax(m23, 2), RangeError, /^softmax: axis 2 is out of range for a 2-d tensor \[2,3\]/],
  ['softmax: axis fractional', () => softmax(m23, 0.5), RangeError, /^softmax: axis 0\.5 is out of range/],
  ['logSoftmax: axis string', () => logSoftmax(m23, any('1')), TypeError, /^logSoftmax: axis must be an integer/],
  ['logSoftmax: axis -3', () => logSoftmax(m23, -3), RangeError, /^logSoftmax: axis -3 is out of range/],
  ['reshape: size mismatch', () => reshape(m23, [4, 2]), RangeError, /^reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,2\] \(8 elements\)/],
  ['reshape: -1 does not divide', () => reshape(m23, [4, -1]), RangeError, /^reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,-1\]/],
  ['reshape: two -1', () => reshape(m23, [-1, -1]), RangeError, /^reshape: shape \[-1,-1\] has more than one -1/],
  ['reshape: fractional', () => reshape(m23, [1.5, 4]), RangeError, /^reshape: shape\[0\] must be a non-negative integer, got 1\.5/],
  ['reshape: shape not an array', () => reshape(m23, any('6')), TypeError, /^reshape: shape must be an array/],
  ['flatten: startDim out of range', () => flatten(m23, 2), RangeError, /^flatten: startDim 2 is out of range for a 2-d tensor/],
  // layout ops and argmax
  ['permute: dims not an array', () => permute(m23, any(1)), TypeError, /^permute: dims must be an array of axes, got 1/],
  ['permute: too few dims', () => permute(m23, [0]), RangeError, /^permute: dims \[0\] must name each of the 2 axes of x \[2,3\] once/],
  ['permute: repeated axis', () => permute(m23, [1, -1]), RangeError, /^permute: dims \[1,-1\] is not a permutation of the 2 axes of x \[2,3\]: an axis repeats/],
  ['permute: axis out of range', () => permute(m23, [0, 2]), RangeError, /^permute: dims\[1\] 2 is out of range for a 2-d tensor/],
  ['permute: axis a string', () => permute(m23, any([0, '1'])), TypeError, /^permute: dims\[1\] must be an integer/],
  ['permute: not a tensor', () => permute(any([1]), [0]), TypeError, /^permute: x must be a Tensor/],
  ['permute: 17 dims that do not merge', () => permute(randTensor(r, Array(17).fill(2)), [...Array(17).keys()].reverse()), RangeError,
    /^permute: the copy needs more than 16 dims even after merging neighbours$/],
  ['transpose: dim1 out of range', () => transpose(m23, 0, 2), RangeError, /^transpose: dim1 2 is out of range/],
  ['transpose: dim0 missing', () => transpose(m23, any(undefined), 1), TypeError, /^transpose: dim0 must be an integer/],
  ['concat: not an array', () => concat(any(m23)), TypeError, /^concat: tensors must be an array of Tensors, got Tensor/],
  ['concat: empty list', () => concat([]), RangeError, /^concat: tensors must hold at least one tensor/],
  ['concat: a non-tensor', () => concat([m23, any([1])]), TypeError, /^concat: tensors\[1\] must be a Tensor, got array/],
  ['concat: mismatched shapes', () => concat([m23, m34], 0), RangeError, /^concat: tensors\[1\] has shape \[3,4\] but tensors\[0\] has \[2,3\]; they must match except along axis 0/],
  ['concat: mismatched ranks', () => concat([m23, randTensor(r, [2, 3, 1])], 1), RangeError, /^concat: tensors\[1\] has shape \[2,3,1\] but tensors\[0\] has \[2,3\]/],
  ['concat: axis out of range', () => concat([m23, m23], 2), RangeError, /^concat: axis 2 is out of range/],
  ['concat: 0-d tensors', () => concat([tensor([1], []), tensor([2], [])]), RangeError, /^concat: tensors\[0\] is a 0-d tensor/],
  ['split: sizes do not sum', () => split(m23, [1, 1], 1), RangeError, /^split: sizes \[1,1\] sum to 2 but axis 1 has 3 elements/],
  ['split: chunk size 0', () => split(m23, 0), RangeError, /^split: sizes must be a positive integer, got 0/],
  ['split: negative size', () => split(m23, [4, -1], 1), RangeError, /^split: sizes\[1\] must be a non-negative integer, got -1/],
  ['split: sizes a string', () => split(m23, any('2')), TypeError, /^split: sizes must be a positive integer or an array of sizes/],
  ['split: empty sizes', () => split(m23, []), RangeError, /^split: sizes must hold at least one size/],
  ['split: axis out of range', () => split(m23, 1, -3), RangeError, /^split: axis -3 is out of range/],
  ['split: 0-d', () => split(tensor([1], []), 1), RangeError, /^split: x is a 0-d tensor/],
  ['slice: step 0', () => slice(m23, 1, 0, 2, 0), RangeError, /^slice: step must be a non-zero integer, got 0/],
  ['slice: start fractional', () => slice(m23, 1, 0.5, 2), RangeError, /^slice: start must be an integer, got 0\.5/],
  ['slice: end a string', () => slice(m23, 1, 0, any('2')), TypeError, /^slice: end must be an integer, got string/],
  ['slice: end NaN', () => slice(m23, 1, 0, NaN), RangeError, /^slice: end must be an integer, got NaN/],
  ['slice: axis out of range', () => slice(m23, 5, 0, 1), RangeError, /^slice: axis 5 is out of range/],
  ['slice: 0-d', () => slice(tensor([1], []), 0, 0, 1), RangeError, /^slice: x is a 0-d tensor/],
  ['argmax: axis out of range', () => argmax(m23, 2), RangeError, /^argmax: axis 2 is out of range/],
  ['argmax: keepDims not boolean', () => argmax(m23, 0, any(1)), TypeError, /^argmax: keepDims must be a boolean/],
  ['argmax: empty axis', () => argmax(tensor([], [2, 0]), 1), RangeError, /^argmax: x \[2,0\] has no elements along axis 1 to take the largest of/],
  ['argmax: not a tensor', () => argmax(any(null)), TypeError, /^argmax: x must be a Tensor, got null/],
  // crossEntropy
  ['crossEntropy: labels not array-like', () => crossEntropy(logits, any(3)), TypeError, /^crossEntropy: labels must be an array-like of class indices, got 3/],
  ['crossEntropy: labels null', () => crossEntropy(logits, any(null)), TypeError, /^crossEntropy: labels must be an array-like/],
  ['crossEntropy: label out of range', () => crossEntropy(logits, [0, 1, 4]), RangeError, /^crossEntropy: labels\[2\] is 4, out of range for 4 classes \(logits \[3,4\]\)/],
  ['crossEntropy: label negative', () => crossEntropy(logits, [0, -1, 2]), RangeError, /^crossEntropy: labels\[1\] is -1, out of range/],
  ['crossEntropy: label fractional', () => crossEntropy(logits, [0, 1.5, 2]), RangeError, /^crossEntropy: labels\[1\] must be an integer class index, got 1\.5/],
  ['crossEntropy: label NaN', () => crossEntropy(logits, [0, NaN, 2]), RangeError, /^crossEntropy: labels\[1\] must be an integer/],
  ['crossEntropy: label string', () => crossEntropy(logits, any([0, '1', 2])), TypeError, /^crossEntropy: labels\[1\] must be a number/],
  ['crossEntropy: label count', () => crossEntropy(logits, [0, 1]), RangeError, /^crossEntropy: labels has 2 entries but logits has 3 rows/],
  ['crossEntropy: logits 1-d', () => crossEntropy(randTensor(r, [4]), [0]), RangeError, /^crossEntropy: logits must be 2-d/],
  ['crossEntropy: empty batch', () => crossEntropy(tensor([], [0, 4]), []), RangeError, /^crossEntropy: logits must have at least one row/],
  // autograd and backend controls
  ['backward: non-scalar without grad', () => randTensor(r, [2, 2], true).backward(), RangeError, /^backward: a gradient can be implied only for a 1-element/],
  ['backward: grad shape', () => relu(randTensor(r, [2, 2], true)).backward(tensor([1, 2], [2])), RangeError, /^backward: grad has shape \[2\] but the tensor has shape \[2,2\]/],
  ['backward: grad not a tensor', () => relu(randTensor(r, [2], true)).backward(any([1, 1])), TypeError, /^backward: grad must be a Tensor/],
  ['item: not one element', () => m23.item(), RangeError, /^item: only a 1-element tensor/],
  ['noGrad: not a function', () => noGrad(any(1)), TypeError, /^noGrad: fn must be a function/],
  ['setBackend: unknown', () => setBackend(any('gpu')), RangeError, /^setBackend: unknown backend 'gpu'/],
  ['setBackend: not a string', () => setBackend(any(1)), TypeError, /^setBackend: name must be a string/],
  ['setNumThreads: 0', () => setNumThreads(0), RangeError, /^setNumThreads: n must be an integer/],
  // found by a fuzz run (issue 17, group 7): each one failed later, or not at all
  ['tensor: unknown option', () => tensor([1], [1], any({ requiresgrad: true })), TypeError, /^tensor: unknown option 'requiresgrad'/],
  ['loadStateDict: unknown option', () => new nn.Linear(2, 2).loadStateDict({}, any({ strickt: false })), TypeError, /^Linear\.loadStateDict: unknown option 'strickt'/],
  ['Tensor: negative shape', () => new Tensor(new Float32Array(1), [-1, -1]), RangeError, /^Tensor: shape must be an array of non-negative integers/],
  ['Tensor: storage not an array', () => new Tensor(any({ length: 4 }), [4]), TypeError, /^Tensor: storage must be a Float32Array/],
  ['Conv2d: stride -1', () => new nn.Conv2d(1, 1, 3, { stride: -1 }), RangeError, /^Conv2d: stride must be a positive integer, got -1/],
  ['MaxPool2d: kernel 0', () => new nn.MaxPool2d(0), RangeError, /^MaxPool2d: kernel must be a positive integer, got 0/],
  ['AvgPool2d: kernel -1', () => new nn.AvgPool2d(-1), RangeError, /^AvgPool2d: kernel must be a positive integer, got -1/],
  ['MaxPool2d: padding over half the kernel', () => new nn.MaxPool2d(2, { padding: 2 }), RangeError, /^MaxPool2d: padding 2 is more than half the 2x2 kernel/],
  ['AvgPool2d: padding over half the kernel', () => new nn.AvgPool2d(3, { padding: [0, 2] }), RangeError, /^AvgPool2d: padding \[0,2,0,2\] is more than half the 3x3 kernel/],
  ['dropout: disposed', () => { const t = tensor([1, 2], [2]); t.dispose(); return dropout(t, 0); }, TypeError, /^dropout: the tensor \[2\] was disposed/],
  ['parseSpec: a size past 2^53', () => parseSpec('9'.repeat(400)), RangeError, /^parseSpec: the input shape/],
  ['Generator.uniform: a string', () => new Generator(1).uniform(any('a'), 1), TypeError, /^Generator\.uniform: low and high must be numbers/],
  ['nllLoss: [N,1] labels', () => nllLoss(m23, tensor([0, 1], [2, 1])), RangeError, /^nllLoss: a labels tensor must be 1-d \[2\], got shape \[2,1\]/],
  ['crossEntropy: [N,1] labels', () => crossEntropy(logits, tensor([0, 1, 2], [3, 1])), RangeError, /^crossEntropy: target probabilities \[3,1\] must have the shape of logits/],
  ['maxPool2d: stride 2^53', () => maxPool2d(small, 1, { stride: 2 ** 53 }), RangeError, /^maxPool2d: a size, stride, padding or dilation of 9007199254740992 is larger than 2\^31 - 1/],
  // empty inputs (issue 17, group 4): as in PyTorch, only the batch of a conv or pooling input may be 0
  ['conv2d: 0 channels', () => conv2d(tensor([], [2, 0, 5, 5]), tensor([], [3, 0, 3, 3]), tensor([1, 1, 1], [3])), RangeError, /^conv2d: input \[2,0,5,5\] must have at least 1 channel, row and column; only the batch may be 0/],
  ['conv2d: 0 rows with padding', () => conv2d(tensor([], [2, 2, 0, 5]), randTensor(r, [3, 2, 1, 1]), null, { padding: 1 }), RangeError, /^conv2d: input \[2,2,0,5\] must have at least 1 channel/],
  ['conv2d: 0 columns with same padding', () => conv2d(tensor([], [1, 1, 4, 0]), randTensor(r, [1, 1, 3, 3]), null, { padding: 'same' }), RangeError, /^conv2d: input \[1,1,4,0\] must have/],
  ['maxPool2d: 0 rows with padding', () => maxPool2d(tensor([], [2, 2, 0, 5]), 3, { padding: 1 }), RangeError, /^maxPool2d: input \[2,2,0,5\] must have at least 1 channel/],
  ['maxPool2d: 0 channels', () => maxPool2d(tensor([], [2, 0, 4, 4]), 2), RangeError, /^maxPool2d: input \[2,0,4,4\] must have/],
  ['avgPool2d: 0 columns with padding', () => avgPool2d(tensor([], [1, 1, 3, 0]), 3, { padding: 1 }), RangeError, /^avgPool2d: input \[1,1,3,0\] must have/],
  ['globalAvgPool2d: 0 rows', () => globalAvgPool2d(tensor([], [1, 1, 0, 3])), RangeError, /^globalAvgPool2d: input \[1,1,0,3\] must have/],
  ['globalMaxPool2d: 0 channels', () => globalMaxPool2d(tensor([], [1, 0, 2, 2])), RangeError, /^globalMaxPool2d: input \[1,0,2,2\] must have/],
  // broadcasting arithmetic, clamp, sum and mean
  ['add: shapes that do not broadcast', () => add(m23, m34), RangeError, /^add: a \[2,3\] and b \[3,4\] do not broadcast/],
  ['sub: [N,C,H,W] - [2,1,1] with 3 channels', () => sub(x4, randTensor(r, [2, 1, 1])), RangeError, /^sub: a \[2,3,32,32\] and b \[2,1,1\] do not broadcast/],
  ['mul: a string', () => mul(m23, any('2')), TypeError, /^mul: b must be a Tensor or a number, got string '2'/],
  ['div: an array', () => div(any([1, 2]), m23), TypeError, /^div: a must be a Tensor or a number, got array \[1,2\]/],
  ['add: two numbers', () => add(any(1), any(2)), TypeError, /^add: a or b must be a Tensor, got two numbers/],
  ['add: disposed', () => { const t = tensor([1, 2], [2]); t.dispose(); return add(t, 1); }, TypeError, /^add: a \[2\] was disposed/],
  ['add: detached b', () => add(m23, detached([3])), TypeError, /^add: b \[3\] lost its data/],
  ['add: more than 16 dims after merging', () => {
    const alternate = (first: number) => Array.from({ length: 17 }, (_, i) => (i % 2 === 0 ? first : 3 - first));
    const a = tensor(new Float32Array(2 ** 9), alternate(2));
    return add(a, tensor(new Float32Array(2 ** 8), alternate(1)));
  }, RangeError, /^add: broadcasting \[2,1,2,1,.*\] with \[1,2,1,2,.*\] needs more than 16 dims even after merging neighbours$/],
  ['clamp: no bound', () => clamp(m23), TypeError, /^clamp: at least one of min and max must be a number/],
  ['clamp: NaN bound', () => clamp(m23, NaN, 1), RangeError, /^clamp: min must not be NaN/],
  ['clamp: string bound', () => clamp(m23, 0, any('6')), TypeError, /^clamp: max must be a number, null or undefined, got string '6'/],
  ['clamp: not a tensor', () => clamp(any(3), 0, 1), TypeError, /^clamp: x must be a Tensor, got 3/],
  ['sum: axis out of range', () => sum(m23, 2), RangeError, /^sum: axes 2 is out of range for a 2-d tensor \[2,3\]/],
  ['sum: an axis in a list out of range', () => sum(m23, [0, -3]), RangeError, /^sum: axes\[1\] -3 is out of range for a 2-d tensor \[2,3\]/],
  ['sum: duplicate axes', () => sum(m23, [1, -1]), RangeError, /^sum: axes \[1,-1\] names dim 1 twice \(shape \[2,3\]\)/],
  ['mean: fractional axis', () => mean(m23, 0.5), RangeError, /^mean: axes 0\.5 is out of range/],
  ['mean: axes a string', () => mean(m23, any('0')), TypeError, /^mean: axes must be a number, an array of numbers or undefined, got string '0'/],
  ['sum: keepDims a number', () => sum(m23, 0, any(1)), TypeError, /^sum: keepDims must be a boolean, got 1/],
  ['sum: axis of a rank-0 tensor', () => sum(tensor([1], []), 1), RangeError, /^sum: axes 1 is out of range for a 0-d tensor/],
  // a tensor whose buffer was transferred away is a TypeError at every op, never NaN or zeros
  ...detachedCases(),
  ['a detached buffer', () => { const t = tensor([1, 2], [2]); structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] }); return t.toArray(); },
    TypeError, /^toArray: the tensor \[2\] lost its data: its ArrayBuffer was detached/],
];

for (const backend of backends) {
  describe(`bad input on ${backend}`, () => {
    it.each(cases)('%s', (_name, fn, cls, message) => {
      withBackend(backend, () => {
        let error: unknown = null;
        try {
          fn();
        } catch (e) {
          error = e;
        }
        expect(error, 'no error thrown').toBeInstanceOf(cls);
        expect((error as Error).message).toMatch(message);
      });
    });
  });
}

// The other side of the empty-input rule: a batch of 0 runs, forward and backward, on every
// backend, and the parameters' gradients are zeros of their shapes (as in PyTorch).
for (const backend of backends) {
  describe(`a batch of 0 on ${backend}`, () => {
    it('runs conv, pooling and linear forward and backward', () => {
      withBackend(backend, () => {
        const x = tensor([], [0, 2, 6, 6], { requiresGrad: true });
        const w = randTensor(r, [3, 2, 3, 3], true);
        const b = randTensor(r, [3], true);
        const fw = randTensor(r, [4, 12], true);
        const conv = conv2d(x, w, b, { padding: 1 });
        const pooled = avgPool2d(maxPool2d(conv, 2, { padding: 1 }), 2);
        expect(conv.shape).toEqual([0, 3, 6, 6]);
        expect(pooled.shape).toEqual([0, 3, 2, 2]);
        const y = linear(flatten(pooled), fw);
        expect(y.shape).toEqual([0, 4]);
        y.backward(tensor([], [0, 4]));
        expect(x.grad?.shape).toEqual([0, 2, 6, 6]);
        expect(Array.from(w.grad!.toArray())).toEqual(new Array(w.size).fill(0));
        expect(Array.from(b.grad!.toArray())).toEqual([0, 0, 0]);
        expect(Array.from(fw.grad!.toArray())).toEqual(new Array(fw.size).fill(0));
      });
    });
  });
}

describe('predict on a disposed input', () => {
  it('rejects with a TypeError naming predict', async () => {
    const t = tensor([1, 2], [1, 2]);
    t.dispose();
    await expect(predict(new nn.Sequential(new nn.Flatten()), t)).rejects.toThrow(/^predict: the tensor \[1,2\] was disposed/);
  });
});

function withNaN(t: Tensor, index = 0): Tensor {
  t.data[index] = NaN;
  return t;
}

type NaNCase = [op: string, run: () => Tensor, expectNaNAt: number[] | 'some'];

function nanCases(): NaNCase[] {
  const q = rng(11);
  const x = () => withNaN(randTensor(q, [1, 1, 4, 4]), 5); // NaN at (1, 1)
  return [
    ['conv2d', () => conv2d(x(), randTensor(q, [1, 1, 3, 3])), [0]],
    ['conv2d weight', () => conv2d(randTensor(q, [1, 1, 4, 4]), withNaN(randTensor(q, [1, 1, 3, 3]))), [0, 1, 2, 3]],
    ['maxPool2d', () => maxPool2d(x(), 2), [0]],
    ['maxPool2d with a big neighbour', () => { const t = x(); t.data[4] = 1e30; return maxPool2d(t, 2); }, [0]],
    ['avgPool2d', () => avgPool2d(x(), 2), [0]],
    ['globalAvgPool2d', () => globalAvgPool2d(x()), [0]],
    ['globalMaxPool2d', () => globalMaxPool2d(x()), [0]],
    ['gemm', () => gemm(withNaN(randTensor(q, [2, 3]), 4), randTensor(q, [3, 2])), [2, 3]],
    ['gemm c', () => gemm(randTensor(q, [2, 3]), randTensor(q, [3, 2]), withNaN(randTensor(q, [2]), 1)), [1, 3]],
    ['matmul', () => matmul(randTensor(q, [2, 2, 3]), withNaN(randTensor(q, [3, 2]), 0)), [0, 2, 4, 6]],
    ['linear', () => linear(withNaN(randTensor(q, [2, 3]), 0), randTensor(q, [4, 3])), [0, 1, 2, 3]],
    ['relu', () => relu(withNaN(randTensor(q, [4]), 2)), [2]],
    ['leakyRelu', () => leakyRelu(withNaN(randTensor(q, [4]), 2)), [2]],
    ['sigmoid', () => sigmoid(withNaN(randTensor(q, [4]), 2)), [2]],
    ['tanh', () => tanh(withNaN(randTensor(q, [4]), 2)), [2]],
    ['softmax', () => softmax(withNaN(randTensor(q, [2, 3]), 1)), [0, 1, 2]],
    ['logSoftmax', () => logSoftmax(withNaN(randTensor(q, [2, 3]), 1), 0), [1, 4]],
    ['reshape', () => reshape(withNaN(randTensor(q, [2, 3]), 1), [3, 2]), [1]],
    ['flatten', () => flatten(withNaN(randTensor(q, [2, 3, 1]), 1)), [1]],
    ['crossEntropy', () => crossEntropy(withNaN(randTensor(q, [2, 3]), 4), [0, 1]), [0]],
    ['add broadcast', () => add(withNaN(randTensor(q, [2, 1]), 1), randTensor(q, [3])), [3, 4, 5]],
    ['mul by a number', () => mul(withNaN(randTensor(q, [4]), 2), 0), [2]],
    ['div', () => div(randTensor(q, [3]), withNaN(randTensor(q, [1]), 0)), [0, 1, 2]],
    ['clamp', () => clamp(withNaN(randTensor(q, [4]), 3), 0, 6), [3]],
    ['sum over an axis', () => sum(withNaN(randTensor(q, [2, 3]), 4), 1), [1]],
    ['mean of everything', () => mean(withNaN(randTensor(q, [300]), 299)), [0]],
    ['mean of nothing', () => mean(tensor([], [0, 2]), 0), [0, 1]],
  ];
}

for (const backend of backends) {
  describe(`NaN propagates on ${backend}`, () => {
    it.each(nanCases())('%s', (_op, run, expectNaNAt) => {
      const y = withBackend(backend as BackendName, run);
      for (const i of expectNaNAt as number[]) expect(Number.isNaN(y.data[i]), `output[${i}] of ${y.data.length} should be NaN: ${Array.from(y.data)}`).toBe(true);
    });
  });
}
