// Elementwise activations and softmax / logSoftmax along any axis.
import type { AnyBackend, Storage } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, emptyResult, checkFiniteNumber, checkTensor } from '../check.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Forward y = f(x); backward dx from x or y (whichever the kernel wants) and dy. */
function elementwise(op: string, xArg: unknown,
  forward: (be: AnyBackend, x: Storage, y: Storage) => void,
  backward: (be: AnyBackend, x: Storage, y: Storage, dy: Storage, dx: Storage) => void): Tensor {
  const x = checkTensor(op, 'x', xArg);
  const backend = backendFor(op, { x });
  const out = emptyResult(op, x.shape, backend);
  if (x.size > 0) forward(backend, x.storage, out.storage);
  return needsGrad(x) ? record(out, op, [x], (dy) => {
    const dx = backend.empty(x.size);
    if (dx.length > 0) backward(backend, x.storage, out.storage, dy, dx);
    return [dx];
  }) : out;
}

/** max(x, 0), elementwise. */
export function relu(x: Tensor): Tensor {
  return elementwise('relu', x, (be, x, y) => be.relu(x, y), (be, x, _y, dy, dx) => be.reluBackward(x, dy, dx));
}

/** x where x > 0, else slope * x (default slope 0.01), elementwise. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  checkFiniteNumber('leakyRelu', 'slope', slope);
  return elementwise('leakyRelu', x,
    (be, x, y) => be.leakyRelu(x, y, slope),
    (be, x, _y, dy, dx) => be.leakyReluBackward(x, dy, dx, slope));
}

/** 1 / (1 + exp(-x)), elementwise. */
export function sigmoid(x: Tensor): Tensor {
  return elementwise('sigmoid', x, (be, x, y) => be.sigmoid(x, y), (be, _x, y, dy, dx) => be.sigmoidBackward(y, dy, dx));
}

/** The hyperbolic tangent, elementwise. */
export function tanh(x: Tensor): Tensor {
  return elementwise('tanh', x, (be, x, y) => be.tanh(x, y), (be, _x, y, dy, dx) => be.tanhBackward(y, dy, dx));
}

type SoftmaxKernel = (be: AnyBackend, x: Storage, y: Storage, outer: number, dim: number, inner: number) => void;
type SoftmaxBackwardKernel = (be: AnyBackend, y: Storage, dy: Storage, dx: Storage, outer: number, dim: number, inner: number) => void;

/** The tensor viewed as [outer, dim, inner] around axis, as the kernels take it. */
function alongAxis(op: string, xArg: unknown, axis: unknown, forward: SoftmaxKernel, backward: SoftmaxBackwardKernel): Tensor {
  const x = checkTensor(op, 'x', xArg);
  const a = normalizeAxis(op, 'axis', axis, x.shape);
  const dim = x.ndim === 0 ? 1 : x.shape[a];
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= x.shape[i];
  const inner = dim === 0 ? 0 : x.size / (outer * dim);
  const backend = backendFor(op, { x });
  const out = emptyResult(op, x.shape, backend);
  if (x.size > 0) forward(backend, x.storage, out.storage, outer, dim, inner);
  return needsGrad(x) ? record(out, op, [x], (dy) => {
    const dx = backend.empty(x.size);
    if (dx.length > 0) backward(backend, out.storage, dy, dx, outer, dim, inner);
    return [dx];
  }) : out;
}

/**
 * exp(x) / sum(exp(x)) along `axis` (default the last), computed stably (the maximum subtracted
 * first).
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return alongAxis('softmax', x, axis,
    (be, x, y, o, d, i) => be.softmax(x, y, o, d, i),
    (be, y, dy, dx, o, d, i) => be.softmaxBackward(y, dy, dx, o, d, i));
}

/**
 * log(softmax(x)) along `axis` (default the last), computed without forming softmax, so it does
 * not underflow.
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return alongAxis('logSoftmax', x, axis,
    (be, x, y, o, d, i) => be.logSoftmax(x, y, o, d, i),
    (be, y, dy, dx, o, d, i) => be.logSoftmaxBackward(y, dy, dx, o, d, i));
}
