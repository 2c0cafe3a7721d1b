// add, sub, mul, div with numpy broadcasting, and clamp. Either operand of an arithmetic op
// may be a plain number (a 0-d operand). Each input's gradient is the upstream gradient times
// the op's partial derivative, summed over the dims along which that input was broadcast.
import type { AnyBackend, Storage } from '../backend/types.js';
import { BinaryOpCode } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, checkTensor, emptyResult } from '../check.js';
import { broadcastShapes, checkedNumel, describe, formatShape, numel } from '../shape.js';
import { Tensor } from '../tensor.js';
import { broadcastGeometry, unbroadcastGeometry } from './broadcast.js';

type ArithOp = keyof typeof BinaryOpCode;

/** An operand as the kernels see it: storage and shape ([] and one element for a number). */
interface Operand {
  shape: readonly number[];
  storage: Storage;
}

function operand(value: unknown, backend: AnyBackend): Operand {
  if (value instanceof Tensor) return { shape: value.shape, storage: value.storage };
  return { shape: [], storage: backend.fromHost(Float32Array.of(value as number)) };
}

function checkOperand(op: string, name: string, value: unknown): Tensor | null {
  if (value instanceof Tensor) return value;
  if (typeof value !== 'number') throw new TypeError(`${op}: ${name} must be a Tensor or a number, got ${describe(value)}`);
  return null;
}

/** outShape, after checking that a tensor of it may be made. */
function checkedShape(op: string, shape: number[]): number[] {
  checkedNumel(op, 'output shape', shape);
  return shape;
}

/** y = a op b written to a fresh buffer of outShape. */
function compute(backend: AnyBackend, op: ArithOp, outShape: readonly number[], a: Operand, b: Operand): Storage {
  const y = backend.empty(numel(outShape));
  if (y.length > 0) backend.binary(BinaryOpCode[op], broadcastGeometry(op, outShape, a.shape, b.shape), a.storage, b.storage, y);
  return y;
}

/**
 * grad (of outShape) summed down to `shape` and scaled by beta. grad itself when nothing is
 * summed or scaled and the caller may hand it on; else a fresh buffer.
 */
function sumTo(backend: AnyBackend, op: string, grad: Storage, outShape: readonly number[], shape: readonly number[], beta: number, reuse: boolean): Storage {
  const n = numel(shape);
  if (reuse && beta === 1 && n === grad.length) return grad;
  const out = backend.empty(n);
  if (n > 0) backend.sumAxes(unbroadcastGeometry(op, outShape, shape), grad, beta, out);
  return out;
}

/** A full-size intermediate reduced to `shape`, giving the intermediate back when it was not handed on. */
function sumOwned(backend: AnyBackend, op: string, full: Storage, outShape: readonly number[], shape: readonly number[], beta: number): Storage {
  const g = sumTo(backend, op, full, outShape, shape, beta, true);
  if (g !== full) backend.release(full, false);
  return g;
}

function arith(op: ArithOp, aArg: unknown, bArg: unknown): Tensor {
  const at = checkOperand(op, 'a', aArg);
  const bt = checkOperand(op, 'b', bArg);
  if (!at && !bt) throw new TypeError(`${op}: a or b must be a Tensor, got two numbers`);
  const backend = backendFor(op, { a: at, b: bt });
  const a = operand(aArg, backend);
  const b = operand(bArg, backend);
  const outShape = broadcastShapes(a.shape, b.shape);
  if (!outShape) {
    throw new RangeError(`${op}: a ${formatShape(a.shape)} and b ${formatShape(b.shape)} do not broadcast (right-aligned, each pair of dims must be equal or one of them 1)`);
  }
  const out = new Tensor(compute(backend, op, checkedShape(op, outShape), a, b), Object.freeze(outShape));
  if (!needsGrad(at, bt)) return out;
  const wantA = at?.requiresGrad ?? false;
  const wantB = bt?.requiresGrad ?? false;
  const y = out.storage;
  return record(out, op, [at, bt], (dy) => {
    let ga: Storage | null = null;
    let gb: Storage | null = null;
    switch (op) {
      case 'add':
      case 'sub':
        if (wantA) ga = sumTo(backend, op, dy, outShape, a.shape, 1, true);
        if (wantB) gb = sumTo(backend, op, dy, outShape, b.shape, op === 'sub' ? -1 : 1, ga !== dy);
        break;
      case 'mul':
        if (wantA) ga = sumOwned(backend, op, compute(backend, 'mul', outShape, { shape: outShape, storage: dy }, b), outShape, a.shape, 1);
        if (wantB) gb = sumOwned(backend, op, compute(backend, 'mul', outShape, { shape: outShape, storage: dy }, a), outShape, b.shape, 1);
        break;
      case 'div': {
        // d/da = dy / b; d/db = -dy a / b^2 = -(dy / b) * y.
        const dyOverB = compute(backend, 'div', outShape, { shape: outShape, storage: dy }, b);
        if (wantB) {
          const full = compute(backend, 'mul', outShape, { shape: outShape, storage: dyOverB }, { shape: outShape, storage: y });
          gb = sumOwned(backend, op, full, outShape, b.shape, -1);
        }
        if (wantA) ga = sumOwned(backend, op, dyOverB, outShape, a.shape, 1);
        else backend.release(dyOverB, false);
        break;
      }
    }
    return [ga, gb];
  });
}

/**
 * a + b, elementwise with numpy broadcasting (shapes right-aligned, each pair of dims equal
 * or one of them 1; the result has the broadcast shape). Either may be a plain number.
 * Both tensors must be on one device.
 */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  return arith('add', a, b);
}

/** a - b, elementwise with numpy broadcasting (see {@link add}). Either may be a plain number. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  return arith('sub', a, b);
}

/** a * b, elementwise with numpy broadcasting (see {@link add}). Either may be a plain number. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  return arith('mul', a, b);
}

/**
 * a / b, elementwise with numpy broadcasting (see {@link add}); IEEE division (x / 0 is
 * +-Infinity, 0 / 0 NaN). Either may be a plain number.
 */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  return arith('div', a, b);
}

function checkBound(op: string, name: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') throw new TypeError(`${op}: ${name} must be a number, null or undefined, got ${describe(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${op}: ${name} must not be NaN`);
  return Math.fround(value); // the bound the float32 comparison sees, on every backend
}

/**
 * x limited to [min, max], elementwise (an omitted bound is no limit; ReLU6 is clamp(x, 0, 6),
 * ONNX Clip the same); NaN stays NaN. As in PyTorch, min > max makes every element max, and
 * the gradient passes where min <= x <= max.
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const op = 'clamp';
  const t = checkTensor(op, 'x', x);
  const lo = checkBound(op, 'min', min);
  const hi = checkBound(op, 'max', max);
  if (lo === null && hi === null) throw new TypeError(`${op}: at least one of min and max must be a number`);
  const upper = hi ?? Infinity;
  const lower = Math.min(lo ?? -Infinity, upper); // min > max: everything becomes max
  const backend = backendFor(op, { x: t });
  const out = emptyResult(op, t.shape, backend);
  if (t.size > 0) backend.clamp(t.storage, lower, upper, out.storage);
  if (!needsGrad(t)) return out;
  const empty = lo !== null && hi !== null && lo > hi; // PyTorch: no element lies in [min, max]
  return record(out, op, [t], (dy) => {
    const dx = backend.empty(t.size);
    if (empty) backend.fill(dx, 0);
    else if (t.size > 0) backend.clampBackward(t.storage, dy, lower, upper, dx);
    return [dx];
  });
}
