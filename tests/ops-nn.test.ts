// batchNorm2d and dropout: semantics against hand-computed PyTorch results, finite-difference
// gradients, bad input and NaN, on every backend.
import { describe, expect, it } from 'vitest';
import { manualSeed } from '../lib/random.js';
import { batchNorm2d } from '../lib/ops/batchnorm.js';
import { dropout } from '../lib/ops/dropout.js';
import { noGrad, tensor } from '../lib/index.js';
import { backends, expectClose, gradcheck, randTensor, rng, withBackend } from './helpers.js';

const any = (v: unknown) => v as never;
const ones = (c: number) => tensor(new Array(c).fill(1), [c]);
const zeros = (c: number) => tensor(new Array(c).fill(0), [c]);

describe.each(backends)('batchNorm2d on %s', (backend) => {
  // x [2, 1, 1, 2] = 1 2 3 4 in one channel: mean 2.5, biased var 1.25, unbiased var 5/3.
  const x = () => tensor([1, 2, 3, 4], [2, 1, 1, 2]);

  it('training normalises by the batch statistics and updates the running ones (unbiased variance)', () => withBackend(backend, () => {
    const rm = tensor([1], [1]), rv = tensor([2], [1]);
    const y = batchNorm2d(x(), rm, rv, tensor([2], [1]), tensor([0.5], [1]), { training: true, momentum: 0.1 });
    const is = 1 / Math.sqrt(1.25 + 1e-5);
    expectClose(y.data, [1, 2, 3, 4].map((v) => (v - 2.5) * is * 2 + 0.5), 'y', 1e-6);
    expectClose(rm.data, [0.9 * 1 + 0.1 * 2.5], 'running mean', 1e-7);
    expectClose(rv.data, [0.9 * 2 + 0.1 * (5 / 3)], 'running var', 1e-7);
  }));

  it('eval normalises by the running statistics and leaves them alone', () => withBackend(backend, () => {
    const rm = tensor([1], [1]), rv = tensor([3], [1]);
    const y = batchNorm2d(x(), rm, rv, null, null, { eps: 1 });
    expectClose(y.data, [0, 0.5, 1, 1.5], 'y', 1e-6);
    expect(rm.data[0]).toBe(1);
    expect(rv.data[0]).toBe(3);
  }));

  it('training without running statistics', () => withBackend(backend, () => {
    const y = batchNorm2d(x(), null, null, null, null, { training: true, eps: 0.25 });
    expectClose(y.data, [-1.5, -0.5, 0.5, 1.5].map((v) => v / Math.sqrt(1.5)), 'y', 1e-6);
  }));

  const r = rng(5);
  const inputs = (n: number, c: number, h: number, w: number, seed: number) => () => {
    const rr = rng(seed);
    return [randTensor(rr, [n, c, h, w], true), randTensor(rr, [c], true), randTensor(rr, [c], true)];
  };
  it('gradients in training mode (x, weight, bias)', () => withBackend(backend, () => {
    const [xi, wi, bi] = inputs(3, 2, 2, 3, 11)();
    gradcheck('batchNorm2d training', [xi, wi, bi],
      ([a, w, b]) => batchNorm2d(a, zeros(2), ones(2), w, b, { training: true }));
  }));
  it('gradients in training mode, no affine, one pixel per image', () => withBackend(backend, () => {
    gradcheck('batchNorm2d training 1x1', [randTensor(r, [5, 3, 1, 1], true)],
      ([a]) => batchNorm2d(a, null, null, null, null, { training: true }));
  }));
  it('gradients in eval mode (x, weight, bias)', () => withBackend(backend, () => {
    const rm = randTensor(r, [2]), rv = tensor([0.5, 2], [2]);
    gradcheck('batchNorm2d eval', inputs(2, 2, 3, 2, 12)(), ([a, w, b]) => batchNorm2d(a, rm, rv, w, b));
  }));
  it('gradient of weight alone', () => withBackend(backend, () => {
    const xi = randTensor(r, [2, 2, 2, 2]);
    gradcheck('batchNorm2d weight only', [randTensor(r, [2], true)], ([w]) => batchNorm2d(xi, null, null, w, null, { training: true }));
  }));

  it('NaN spreads through its channel in training, stays in place in eval', () => withBackend(backend, () => {
    const xs = tensor([NaN, 1, 2, 3, 4, 5, 6, 7], [2, 2, 1, 2]);
    const yTrain = batchNorm2d(xs, null, null, null, null, { training: true });
    expect(Array.from(yTrain.data).map(Number.isNaN)).toEqual([true, true, false, false, true, true, false, false]);
    const yEval = batchNorm2d(xs, zeros(2), ones(2), null, null);
    expect(Array.from(yEval.data).map(Number.isNaN)).toEqual([true, false, false, false, false, false, false, false]);
  }));
});

describe.each(backends)('dropout on %s', (backend) => {
  it('zeroes about p of the values and scales the rest by 1/(1-p)', () => withBackend(backend, () => {
    const x = tensor(new Array(20000).fill(1), [100, 200]);
    const y = dropout(x, 0.3);
    expect(y.shape).toEqual([100, 200]);
    const kept = y.data.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    expect(Math.abs(kept.length / 20000 - 0.7)).toBeLessThan(0.02);
  }));

  it('is repeatable under manualSeed and the same on every backend', () => withBackend(backend, () => {
    const x = randTensor(rng(1), [64]);
    manualSeed(42);
    const a = dropout(x, 0.5).toArray();
    manualSeed(42);
    const b = withBackend('js', () => dropout(x, 0.5)).toArray();
    expect(a).toEqual(b);
    expect(dropout(x, 0.5).toArray()).not.toEqual(a);
  }));

  it('is the identity (the same tensor) for p = 0 or when not training', () => withBackend(backend, () => {
    const x = randTensor(rng(2), [3, 4], true);
    expect(dropout(x, 0)).toBe(x);
    expect(dropout(x, 0.5, false)).toBe(x);
  }));

  it('backward multiplies by the same mask', () => withBackend(backend, () => {
    const x = randTensor(rng(3), [50], true);
    gradcheck('dropout', [x], ([a]) => {
      manualSeed(7); // the same mask on every evaluation
      return dropout(a, 0.4);
    });
    manualSeed(7);
    const y = dropout(x, 0.4);
    x.grad = null;
    y.backward(tensor(new Array(50).fill(1), [50]));
    expectClose(x.grad!.data, Array.from(y.data, (v, i) => v / x.data[i]), 'dx = mask * scale', 1e-6);
  }));

  it('propagates NaN, also where the value is dropped (a product, as PyTorch)', () => withBackend(backend, () => {
    const x = tensor(new Array(32).fill(NaN), [32]);
    expect(noGrad(() => dropout(x, 0.5)).data.every(Number.isNaN)).toBe(true);
  }));
});

describe('bad input', () => {
  const x = randTensor(rng(4), [2, 3, 4, 4]);
  const c3 = randTensor(rng(5), [3]);
  type Case = [string, () => unknown, typeof TypeError | typeof RangeError, RegExp];
  const cases: Case[] = [
    ['input not a tensor', () => batchNorm2d(any([1]), c3, c3, null, null), TypeError, /^batchNorm2d: input must be a Tensor/],
    ['input 3-d', () => batchNorm2d(randTensor(rng(1), [2, 3, 4]), c3, c3, null, null), RangeError, /^batchNorm2d: input must be 4-d \(NCHW\), got shape \[2,3,4\]/],
    ['runningMean wrong length', () => batchNorm2d(x, randTensor(rng(1), [4]), c3, null, null), RangeError,
      /^batchNorm2d: runningMean must have shape \[3\] \(one value per channel\), got \[4\] \(input \[2,3,4,4\]\)$/],
    ['runningVar 2-d', () => batchNorm2d(x, c3, randTensor(rng(1), [3, 1]), null, null), RangeError, /^batchNorm2d: runningVar must have shape \[3\]/],
    ['weight wrong length', () => batchNorm2d(x, c3, c3, randTensor(rng(1), [2]), null), RangeError, /^batchNorm2d: weight must have shape \[3\]/],
    ['bias wrong length', () => batchNorm2d(x, c3, c3, null, randTensor(rng(1), [6])), RangeError, /^batchNorm2d: bias must have shape \[3\]/],
    ['bias not a tensor', () => batchNorm2d(x, c3, c3, null, any([0, 0, 0])), TypeError, /^batchNorm2d: bias must be a Tensor/],
    ['only one running stat', () => batchNorm2d(x, c3, null, null, null, { training: true }), TypeError, /^batchNorm2d: runningMean and runningVar/],
    ['eval without running stats', () => batchNorm2d(x, null, null, null, null), RangeError, /^batchNorm2d: eval mode needs runningMean/],
    ['one value per channel in training', () => batchNorm2d(randTensor(rng(1), [1, 3, 1, 1]), c3, c3, null, null, { training: true }), RangeError,
      /^batchNorm2d: training needs more than 1 value per channel.*\[1,3,1,1\]/],
    ['momentum 2', () => batchNorm2d(x, c3, c3, null, null, { momentum: 2 }), RangeError, /^batchNorm2d: momentum must be in \[0, 1\], got 2/],
    ['eps 0', () => batchNorm2d(x, c3, c3, null, null, { eps: 0 }), RangeError, /^batchNorm2d: eps must be positive/],
    ['eps NaN', () => batchNorm2d(x, c3, c3, null, null, { eps: NaN }), RangeError, /^batchNorm2d: eps must be finite/],
    ['training not boolean', () => batchNorm2d(x, c3, c3, null, null, { training: any(1) }), TypeError, /^batchNorm2d: training must be a boolean/],
    ['unknown option', () => batchNorm2d(x, c3, c3, null, null, any({ affine: true })), TypeError, /^batchNorm2d: unknown option 'affine'/],
    ['dropout x not a tensor', () => dropout(any(null)), TypeError, /^dropout: x must be a Tensor, got null/],
    ['dropout p 1', () => dropout(x, 1), RangeError, /^dropout: p must be in \[0, 1\), got 1$/],
    ['dropout p negative', () => dropout(x, -0.1), RangeError, /^dropout: p must be in \[0, 1\), got -0\.1$/],
    ['dropout p NaN', () => dropout(x, NaN), RangeError, /^dropout: p must be in \[0, 1\), got NaN$/],
    ['dropout p string', () => dropout(x, any('0.5')), TypeError, /^dropout: p must be a number/],
    ['dropout training not boolean', () => dropout(x, 0.5, any('yes')), TypeError, /^dropout: training must be a boolean/],
  ];
  it.each(cases)('%s', (_name, fn, cls, message) => {
    for (const backend of backends) {
      withBackend(backend, () => {
        expect(fn).toThrow(cls);
        expect(fn).toThrow(message);
      });
    }
  });

  it('a failed call leaves the running statistics untouched', () => {
    const rm = tensor([0, 0, 0], [3]);
    expect(() => batchNorm2d(x, rm, c3, randTensor(rng(1), [2]), null, { training: true })).toThrow(RangeError);
    expect(Array.from(rm.data)).toEqual([0, 0, 0]);
  });
});

describe('empty batches', () => {
  it('eval on an empty batch gives an empty result', () => {
    for (const backend of backends) {
      withBackend(backend, () => {
        const y = batchNorm2d(tensor([], [0, 2, 3, 3]), zeros(2), ones(2), null, null);
        expect(y.shape).toEqual([0, 2, 3, 3]);
        expect(dropout(tensor([], [0, 4]), 0.5).shape).toEqual([0, 4]);
      });
    }
  });
});

